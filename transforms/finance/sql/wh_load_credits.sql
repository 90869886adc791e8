-- A run's proposed credit lines into the warehouse (grain: run_id, credit_id).
insert into run_credits
select
    $run_id as run_id,
    credit_id,
    incident_id,
    customer_id,
    currency,
    credit_amount,
    credit_amount_minor,
    credited_txn_count,
    failed_amount_minor,
    reason_code,
    description,
    policy_version
from work.credits
