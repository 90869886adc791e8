-- A run's credit per customer and currency in minor units, and what the ledger paid for it
-- (key: customer_id, currency).
with

lines as (
    select * from run_credits where run_id = $run_id
),

paid as (
    select * from paid_credits
),

final as (
    select
        lines.customer_id,
        lines.currency,
        lines.credit_amount_minor as credit_minor,
        lines.failed_amount_minor,
        coalesce(paid.paid_minor, 0) as paid_minor
    from lines
    left join paid on paid.credit_id = lines.credit_id
)

select * from final order by customer_id, currency
