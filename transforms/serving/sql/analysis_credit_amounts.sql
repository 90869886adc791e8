-- A run's credit per customer and currency in minor units, and what the ledger paid for it
-- (key: customer_id, currency); a credit the incident's ledger paid that the run no longer
-- lists (a newer run's narrower window) too, with no credit of its own: what was paid counts.
with

lines as (
    select * from run_credits where run_id = $run_id
),

paid as (
    select * from paid_credits where incident_id = $incident_id
),

final as (
    select
        coalesce(lines.customer_id, paid.customer_id) as customer_id,
        coalesce(lines.currency, paid.currency) as currency,
        lines.credit_amount_minor as credit_minor,
        lines.failed_amount_minor,
        coalesce(paid.paid_minor, 0) as paid_minor
    from lines
    full outer join paid on paid.credit_id = lines.credit_id
)

select * from final order by customer_id, currency
