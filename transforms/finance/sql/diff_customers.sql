-- The customers whose segment or status differs between run $run_id (after) and run
-- $against_run_id (before), as each run's customer table had them (key: customer_id).
with

after as (
    select customer_id, any_value(segment) as segment, any_value(status) as status
    from run_customers
    where run_id = $run_id
    group by customer_id
),

before as (
    select customer_id, any_value(segment) as segment, any_value(status) as status
    from run_customers
    where run_id = $against_run_id
    group by customer_id
),

final as (
    select
        after.customer_id,
        before.segment as before_segment,
        after.segment as after_segment,
        before.status as before_status,
        after.status as after_status
    from after
    inner join before on after.customer_id = before.customer_id
    where after.segment is distinct from before.segment
        or after.status is distinct from before.status
)

select * from final order by customer_id
