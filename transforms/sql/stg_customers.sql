-- The customer table, renamed and cast only (key: customer_id).
create or replace table stg_customers as
with

source as (
    select * from read_parquet($path)
),

final as (
    select
        customer_id,
        name,
        email,
        country,
        segment,
        status
    from source
)

select * from final
