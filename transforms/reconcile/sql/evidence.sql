-- The evidence behind the credit file: one row per candidate transaction (key: txn_id) with its
-- class, whether it is credited and why (or why not), and where it was seen. `unpriced`: the
-- policy gives its line no amount (a null or non-ISO currency, a null amount under the percent
-- basis), payable or owed by hand; the gate rejects such a run.
create or replace table evidence as
with

classified as (
    select * from int_candidates_classified
),

lines as (
    select * from int_credit_lines
),

final as (
    select
        classified.txn_id,
        classified.class,
        coalesce(
            classified.class_credited and lines.customer_block is null
                and lines.credit_amount_minor > 0,
            false
        ) as credited,
        case
            when not classified.class_credited and classified.class in ('recovered', 'table_only')
                then classified.class || '_not_credited'
            when not classified.class_credited then classified.class
            when lines.customer_block = 'excluded_segment' then lines.customer_block
            -- before closed_account and unknown_customer: finance cannot pay by hand an amount
            -- nobody knows
            when lines.credit_amount_minor is null then 'unpriced'
            when lines.customer_block is not null then lines.customer_block
            when lines.credit_amount_minor <= 0 then 'zero_credit'
            else classified.class
        end as reason,
        classified.customer_id,
        classified.amount_minor,
        classified.currency,
        array_to_string(classified.error_codes, ',') as error_codes,
        classified.first_failure_at,
        classified.last_failure_at,
        classified.failure_lines,
        array_to_string(classified.source_files, ',') as source_files,
        classified.edge_failure_lines > 0 as edge,
        classified.table_status,
        classified.log_customer_id
    from classified
    left join lines
        on classified.class_credited
        and lines.customer_id is not distinct from classified.customer_id
        and lines.currency is not distinct from classified.currency
)

select * from final
