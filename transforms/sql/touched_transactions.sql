-- The transaction-table rows this run used (key: txn_id): those of the candidate transactions.
select transactions.*
from stg_transactions as transactions
where transactions.txn_id in (select txn_id from int_candidates_classified)
order by transactions.txn_id
