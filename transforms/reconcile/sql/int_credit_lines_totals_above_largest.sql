-- The first currency whose credit lines owed (payable, or for finance by hand) sum, in their
-- credits or in their failed amounts, beyond ±$largest_total minor units (key: currency): the
-- run's totals per currency (the manifest's, the report's, a batch's) are 64-bit integers. With
-- the credits' total without the floor (`min_minor`), to tell a floor that raised them past it
-- from the basis.
with

owed as (
    select * from int_credit_lines where customer_block is distinct from 'excluded_segment'
),

final as (
    select
        currency,
        count(*) as credit_lines,
        sum(cast(credit_amount_minor as hugeint)) as credit_total_minor,
        sum(least(base_amount_minor, coalesce(cap_minor, base_amount_minor))) as unfloored_total_minor,
        sum(cast(failed_amount_minor as hugeint)) as failed_total_minor
    from owed
    group by currency
    having abs(sum(cast(credit_amount_minor as hugeint))) > $largest_total
        or abs(sum(cast(failed_amount_minor as hugeint))) > $largest_total
)

select * from final
order by currency
limit 1
