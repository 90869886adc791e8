-- The one transaction of a PostgreSQL read: READ ONLY, so the pipeline cannot write; REPEATABLE
-- READ, so the transaction and customer tables are read from one snapshot.
start transaction isolation level repeatable read, read only
