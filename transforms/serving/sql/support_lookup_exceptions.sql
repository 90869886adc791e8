-- What finance handles by hand for a customer (or one transaction) in the answering runs
-- $run_ids (grain: one exception row, as in each run's exceptions.csv).
select
    run_id,
    incident_id,
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    credit_owed_minor,
    failed_amount_minor,
    detail
from run_exceptions
where list_contains($run_ids, run_id)
    and (customer_id = $customer_id or txn_id = $txn_id)
order by incident_id, exception, currency, txn_id
