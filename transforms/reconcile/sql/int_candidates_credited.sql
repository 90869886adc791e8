-- Each classified candidate transaction (one row per row of int_candidates_classified, its
-- columns) with whether it is credited and why (or why not): the one place the rule is written,
-- which the evidence and `credits what-if` both read.
-- Credited: its class is credited (`class_credited`) and it counts in a line of the credit file,
-- its (customer_id, currency) line payable (no `customer_block`) and owed more than 0.
-- The reason, first match wins: <class>_not_credited (recovered, table_only, under a policy that
-- does not credit them) | <class> (any other class not credited) | excluded_segment | unpriced
-- (the line has no price: before closed_account and unknown_customer, as finance cannot pay by
-- hand an amount nobody knows) | closed_account | unknown_customer | zero_credit | <class>.
create or replace view int_candidates_credited as
with

classified as (
    select * from int_candidates_classified
),

lines as (
    select * from int_credit_lines
),

final as (
    select
        classified.*,
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
            when lines.credit_amount_minor is null then 'unpriced'
            when lines.customer_block is not null then lines.customer_block
            when lines.credit_amount_minor <= 0 then 'zero_credit'
            else classified.class
        end as reason
    from classified
    left join lines
        on classified.class_credited
        and lines.customer_id is not distinct from classified.customer_id
        and lines.currency is not distinct from classified.currency
)

select * from final
