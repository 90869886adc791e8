-- Customers of incident $incident_id that earlier batches listed to pay by hand beyond what run
-- $run_id leaves to pay them (key: customer_id, currency): a closed account now owed less, or
-- owed nothing. Nothing was paid through the ledger for it, so it is no decrease and no credit
-- line of the diff, and approving the run publishes nothing for it. listed_minor: what the
-- batches listed; to_pay_minor: what the run leaves to pay by hand before those listings (what
-- it owes a closed account, less what the ledger paid). A customer with a credit line in the
-- run is not here: that line's diff counts what was listed.
with

listed as (
    select customer_id, currency, listed_minor
    from listed_by_hand
    where incident_id = $incident_id
),

owed as (
    select customer_id, currency, credit_owed_minor
    from run_exceptions
    where run_id = $run_id and exception = 'closed_account'
),

paid as (
    select customer_id, currency, paid_minor
    from paid_customers
    where incident_id = $incident_id
),

credited as (
    select customer_id, currency from run_credits where run_id = $run_id
),

left_to_pay as (
    select
        listed.customer_id,
        listed.currency,
        listed.listed_minor,
        greatest(coalesce(owed.credit_owed_minor, 0) - coalesce(paid.paid_minor, 0), 0)
            as to_pay_minor
    from listed
    left join owed on owed.customer_id = listed.customer_id and owed.currency = listed.currency
    left join paid on paid.customer_id = listed.customer_id and paid.currency = listed.currency
    where not exists (
        select 1 from credited
        where credited.customer_id = listed.customer_id and credited.currency = listed.currency
    )
),

final as (
    select * from left_to_pay where listed_minor > to_pay_minor
)

select * from final order by customer_id, currency
