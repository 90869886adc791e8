-- The transaction-table rows this run used (key: txn_id): those of the candidate transactions,
-- and any row without a txn_id (it could be the row of any candidate: the gate must see it).
select transactions.*
from stg_transactions as transactions
where transactions.txn_id in (select txn_id from int_candidates_classified)
    or transactions.txn_id is null
order by transactions.txn_id
