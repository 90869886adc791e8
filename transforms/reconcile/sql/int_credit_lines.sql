-- One line per (customer_id, currency) over the transactions whose class is credited, priced by
-- the policy (integer minor units) and checked against the customer table. `customer_block` says
-- why a line is not paid: unknown_customer | excluded_segment | closed_account (null: payable,
-- or a zero_credit when its amount is 0).
-- Percent: $percent_numerator / $percent_denominator percent of the summed amount, rounded half
-- up to a whole minor unit with integer arithmetic; then the floor, then the cap. The basis, the
-- floor and the cap are worked in 128 bits and the credit narrowed to 64 only once capped: a flat
-- credit per transaction times many transactions may pass 64 bits before the cap holds it
-- (uncapped, `int_credit_lines_above_largest` stops the run first). A line without
-- a currency (a rejected table's null), or under the percent basis with a payment without an
-- amount, has no price: null (never its floor or cap), `unpriced` in the evidence.
create or replace table int_credit_lines as
with

credited as (
    select * from int_candidates_classified where class_credited
),

lines as (
    select
        customer_id,
        currency,
        count(*) as credited_txn_count,
        -- unknown when one payment's amount is (a rejected table's null): a percent of it
        -- would leave that payment out, so the line is not priced (`unpriced`)
        case
            when count(amount_minor) = count(*) then cast(sum(amount_minor) as bigint)
        end as failed_amount_minor
    from credited
    group by customer_id, currency
),

with_customer as (
    select
        lines.*,
        case
            when customers.customer_id is null then 'unknown_customer'
            when list_contains($exclude_segments, customers.segment) then 'excluded_segment'
            when customers.status = 'closed' then 'closed_account'
        end as customer_block
    from lines
    left join stg_customers as customers on customers.customer_id = lines.customer_id
),

priced as (
    select
        with_customer.*,
        policy_amounts.minor_unit_factor,
        policy_amounts.min_minor,
        policy_amounts.cap_minor,
        case when policy_amounts.currency is not null then
            case $basis
                when 'flat_per_customer' then policy_amounts.flat_minor
                when 'flat_per_transaction'
                    then cast(policy_amounts.flat_minor as hugeint) * credited_txn_count
                when 'percent_of_failed_amount' then cast(
                    (2 * cast(failed_amount_minor as hugeint) * $percent_numerator
                        + 100 * $percent_denominator)
                    // (200 * $percent_denominator) as hugeint
                )
            end
        end as base_amount_minor
    from with_customer
    left join policy_amounts on policy_amounts.currency = with_customer.currency
),

-- greatest and least skip a null: an unpriced line (null base) would come to its floor or cap
floored as (
    select
        *,
        case when base_amount_minor is not null
            then greatest(base_amount_minor, coalesce(min_minor, base_amount_minor))
        end as floored_amount_minor
    from priced
),

capped as (
    select
        * exclude (floored_amount_minor),
        case when floored_amount_minor is not null
            then cast(
                least(floored_amount_minor, coalesce(cap_minor, floored_amount_minor)) as bigint
            )
        end as credit_amount_minor
    from floored
),

final as (
    -- a closed account owed nothing (a zero flat amount, a percent that rounds to 0) is a
    -- zero_credit like any other, not a line for finance to pay 0.00 by hand
    select
        * replace (
            case
                when customer_block = 'closed_account' and credit_amount_minor <= 0 then null
                else customer_block
            end as customer_block
        )
    from capped
)

select * from final
