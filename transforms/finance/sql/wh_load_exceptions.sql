-- A run's exceptions into the warehouse.
insert into run_exceptions by name
select
    $run_id as run_id,
    incident_id,
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    credit_owed_minor,
    failed_amount_minor,
    detail
from work.exceptions
