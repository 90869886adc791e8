-- A reader's one transaction: every table from one snapshot, never a lock a writer waits for.
start transaction isolation level repeatable read, read only
