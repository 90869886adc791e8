-- The candidate transactions whose evidence differs between run $run_id (after) and run
-- $against_run_id (before) (key: txn_id): one side missing, or a different class, credit,
-- reason, customer, currency, amount or table status.
with

after as (
    select * from evidence where run_id = $run_id
),

before as (
    select * from evidence where run_id = $against_run_id
),

final as (
    select
        coalesce(after.txn_id, before.txn_id) as txn_id,
        after.txn_id is not null as in_after,
        before.txn_id is not null as in_before,
        after.customer_id as after_customer_id,
        before.customer_id as before_customer_id,
        after.currency as after_currency,
        before.currency as before_currency,
        after.class as after_class,
        before.class as before_class,
        after.credited as after_credited,
        before.credited as before_credited,
        after.reason as after_reason,
        before.reason as before_reason,
        after.table_status as after_table_status,
        before.table_status as before_table_status,
        after.amount_minor as after_amount_minor,
        before.amount_minor as before_amount_minor,
        coalesce(after.first_failure_at, before.first_failure_at) as first_failure_at,
        coalesce(after.source_files, before.source_files) as source_files
    from after
    full outer join before on after.txn_id = before.txn_id
    where after.txn_id is null
        or before.txn_id is null
        or after.class is distinct from before.class
        or after.credited is distinct from before.credited
        or after.reason is distinct from before.reason
        or after.customer_id is distinct from before.customer_id
        or after.currency is distinct from before.currency
        or after.amount_minor is distinct from before.amount_minor
        or after.table_status is distinct from before.table_status
)

select * from final order by txn_id
