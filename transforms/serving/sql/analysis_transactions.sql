-- A run's candidate transactions with their customer as the run saw them (key: txn_id).
with

candidates as (
    select * from evidence where run_id = $run_id
),

people as (
    select * from run_customers where run_id = $run_id
),

final as (
    select
        candidates.txn_id,
        candidates.class,
        candidates.credited,
        candidates.reason,
        candidates.customer_id,
        people.segment,
        people.country,
        people.status as account_status,
        candidates.amount_minor,
        candidates.currency,
        candidates.error_codes,
        candidates.first_failure_at as first_failure_utc,
        candidates.last_failure_at as last_failure_utc,
        candidates.failure_lines
    from candidates
    left join people on people.customer_id = candidates.customer_id
)

select * from final order by txn_id
