-- A run's exceptions into the warehouse.
insert into run_exceptions
select
    $run_id as run_id,
    incident_id,
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    amount_minor,
    detail
from work.exceptions
