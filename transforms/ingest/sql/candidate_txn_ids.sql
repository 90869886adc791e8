-- The candidate txn_ids (key: txn_id): those of the candidate failure lines, already trimmed.
-- A PostgreSQL read of the transaction table fetches their rows wherever they were created.
select distinct txn_id
from stg_failures
order by txn_id
