-- Who a transaction belongs to, per incident (key: incident_id, customer_id): from the evidence
-- and the exceptions of the answering runs $run_ids (a rejected run's data never answers), the
-- table's customer where log and table disagreed.
select distinct incident_id, customer_id
from (
    select incident_id, customer_id
    from evidence
    where txn_id = $txn_id and list_contains($run_ids, run_id)
    union all
    select incident_id, customer_id
    from run_exceptions
    where txn_id = $txn_id and list_contains($run_ids, run_id)
)
order by incident_id, customer_id nulls last
