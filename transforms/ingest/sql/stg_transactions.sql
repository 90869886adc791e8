-- The transaction table, renamed and cast only (key: txn_id, trimmed like log txn_ids), from
-- `source_transactions`: the source's rows as an Arrow stream, checked against the column
-- contract (tables.py). Times without a zone are read as UTC, the session's zone.
create or replace table stg_transactions as
with

source as (
    select * from source_transactions
),

final as (
    select
        regexp_replace(txn_id, '^[[:space:]]+|[[:space:]]+$', '', 'g') as txn_id,
        customer_id,
        cast(amount_minor as bigint) as amount_minor,
        currency,
        status,
        error_code,
        cast(created_at as timestamptz) as created_at,
        cast(updated_at as timestamptz) as updated_at
    from source
)

select * from final
