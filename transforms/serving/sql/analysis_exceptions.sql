-- A run's exceptions for finance (grain: one row of its exceptions.csv).
select
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    credit_owed_minor,
    failed_amount_minor,
    detail
from run_exceptions
where run_id = $run_id
order by exception, customer_id, currency, txn_id
