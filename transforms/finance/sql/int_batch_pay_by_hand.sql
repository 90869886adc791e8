-- What finance pays by hand if run $run_id is approved (key: customer_id, currency): each of the
-- run's closed_account lines (the account is closed: no payment instruction can reach it), with
-- what the ledger already paid that credit and what earlier batches of incident $incident_id
-- already listed to pay by hand; to_pay_minor is what is left, never below zero.
with

owed as (
    select customer_id, currency, txn_count, credit_owed_minor, detail
    from run_exceptions
    where run_id = $run_id and exception = 'closed_account'
),

paid as (
    select customer_id, currency, paid_minor
    from paid_customers
    where incident_id = $incident_id
),

listed as (
    select customer_id, currency, listed_minor as listed_before_minor
    from listed_by_hand
    where incident_id = $incident_id
),

final as (
    select
        owed.customer_id,
        owed.currency,
        owed.txn_count,
        coalesce(owed.credit_owed_minor, 0) as credit_owed_minor,
        coalesce(paid.paid_minor, 0) as paid_minor,
        coalesce(listed.listed_before_minor, 0) as listed_before_minor,
        greatest(
            coalesce(owed.credit_owed_minor, 0)
            - coalesce(paid.paid_minor, 0)
            - coalesce(listed.listed_before_minor, 0),
            0
        ) as to_pay_minor,
        owed.detail
    from owed
    left join paid
        on paid.customer_id = owed.customer_id and paid.currency = owed.currency
    left join listed
        on listed.customer_id = owed.customer_id and listed.currency = owed.currency
)

select * from final order by customer_id, currency
