-- What finance handles by hand for a customer (or one transaction) in the answering runs
-- $run_ids (grain: one exception row, as in each run's exceptions.csv). Given several runs of one
-- incident (the published runs that paid a customer the answering run no longer lists), an
-- exception is the newest run's, listed once.
select
    run_exceptions.run_id,
    run_exceptions.incident_id,
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    credit_owed_minor,
    failed_amount_minor,
    detail
from run_exceptions
inner join runs_ordered as runs on runs.run_id = run_exceptions.run_id
where list_contains($run_ids, run_exceptions.run_id)
    and (customer_id = $customer_id or txn_id = $txn_id)
qualify row_number() over (
    partition by run_exceptions.incident_id, exception, customer_id, currency, txn_id
    order by runs.newness
) = 1
order by run_exceptions.incident_id, exception, currency, txn_id
