-- Known transaction ids that differ from $txn_id only in case (key: txn_id): suggestions for a
-- mistyped paste, never a match.
select distinct txn_id
from (
    select txn_id from evidence
    union all
    select txn_id from run_exceptions
)
where lower(txn_id) = lower($txn_id) and txn_id <> $txn_id
order by txn_id
