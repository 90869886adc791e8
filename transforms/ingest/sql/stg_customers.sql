-- The customer table, renamed and cast only (key: customer_id), from `source_customers`: the
-- source's rows as an Arrow stream, checked against the column contract (tables.py).
create or replace table stg_customers as
with

source as (
    select * from source_customers
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
