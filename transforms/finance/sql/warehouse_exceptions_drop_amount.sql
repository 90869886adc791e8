-- Version 3, step 2 of 2: the split column goes.
alter table run_exceptions drop column amount_minor
