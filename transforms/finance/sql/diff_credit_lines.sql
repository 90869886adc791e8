-- What run $run_id changes in its incident's credits against a baseline (key: credit_id): the
-- credit lines of run $against_run_id, or, when it is null, what each credit_id of incident
-- $incident_id has been paid (the ledger, and for a line of the run what earlier batches listed
-- to pay by hand, as approval counts it). change: added | removed | increased | decreased |
-- unchanged; an amount is null on the side that has no line.
with

after as (
    select credit_id, customer_id, currency, credit_amount_minor as amount_minor
    from run_credits
    where run_id = $run_id
),

before_run as (
    select credit_id, customer_id, currency, credit_amount_minor as amount_minor
    from run_credits
    where $against_run_id is not null and run_id = $against_run_id
),

ledger as (
    select credit_id, customer_id, currency, paid_minor as amount_minor
    from paid_credits
    where $against_run_id is null and incident_id = $incident_id
),

by_hand as (
    select after.credit_id, after.customer_id, after.currency, listed.to_pay_minor as amount_minor
    from batch_pay_by_hand as listed
    inner join after on after.customer_id = listed.customer_id and after.currency = listed.currency
    where $against_run_id is null and listed.incident_id = $incident_id
),

before_paid as (
    select credit_id, any_value(customer_id) as customer_id, any_value(currency) as currency,
        sum(amount_minor)::bigint as amount_minor
    from (select * from ledger union all select * from by_hand)
    group by credit_id
),

before as (
    select * from before_run
    union all
    select * from before_paid
),

final as (
    select
        coalesce(after.credit_id, before.credit_id) as credit_id,
        coalesce(after.customer_id, before.customer_id) as customer_id,
        coalesce(after.currency, before.currency) as currency,
        before.amount_minor as before_minor,
        after.amount_minor as after_minor,
        case
            when before.credit_id is null then 'added'
            when after.credit_id is null then 'removed'
            when after.amount_minor > before.amount_minor then 'increased'
            when after.amount_minor < before.amount_minor then 'decreased'
            else 'unchanged'
        end as change
    from after
    full outer join before on after.credit_id = before.credit_id
)

select * from final order by customer_id, currency
