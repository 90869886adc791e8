-- The transaction table, renamed and cast only (key: txn_id, its ASCII white space at both ends
-- trimmed, `$ascii_space`, as a log txn_id's is), from `source_transactions`: the source's rows
-- as an Arrow stream, checked against the column contract (tables.py). Times without a zone are
-- read as UTC, the session's zone.
create or replace table stg_transactions as
with

source as (
    select * from source_transactions
),

final as (
    select
        trim(txn_id, $ascii_space) as txn_id,
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
