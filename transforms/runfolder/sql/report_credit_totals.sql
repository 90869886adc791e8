-- The report's totals: credit lines per currency (key: currency) and, in the row whose
-- currency is null, the counts over all currencies (its amounts are null: never add currencies).
with

credits as (
    select * from main.credits
),

final as (
    select
        currency,
        count(*) as credit_lines,
        count(distinct customer_id) as customers,
        sum(credited_txn_count)::bigint as credited_txns,
        case when grouping(currency) = 0 then sum(credit_amount_minor)::bigint end
            as credit_minor,
        case when grouping(currency) = 0 then sum(failed_amount_minor)::bigint end
            as failed_minor
    from credits
    group by grouping sets ((currency), ())
)

select * from final order by currency nulls last
