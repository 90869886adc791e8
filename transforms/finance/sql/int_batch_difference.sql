-- What approving run $run_id changes for its incident (key: credit_id): each credit line of the
-- run against what its credit_id has been paid, and each paid credit the run no longer has.
-- delta_minor > 0 is a payment to make, as ledger entry `entry_id` (the credit's next entry);
-- < 0 a decrease, which is never paid back negatively, and decided once: one an earlier batch
-- reported against the same amount paid, with as much or less due, is left out. What earlier batches listed to pay by
-- hand (a closed account, since reopened) counts as paid: it is never paid a second time.
with

proposed as (
    select * from run_credits where run_id = $run_id
),

paid as (
    select * from paid_credits where incident_id = $incident_id
),

by_hand as (
    select customer_id, currency, listed_minor
    from listed_by_hand
    where incident_id = $incident_id
),

lines as (
    select
        proposed.credit_id,
        proposed.customer_id,
        proposed.currency,
        proposed.credit_amount_minor as due_minor,
        coalesce(paid.paid_minor, 0) + coalesce(by_hand.listed_minor, 0) as paid_minor,
        coalesce(paid.entries, 0) as paid_entries,
        proposed.description,
        proposed.policy_version
    from proposed
    left join paid on paid.credit_id = proposed.credit_id
    left join by_hand
        on by_hand.customer_id = proposed.customer_id and by_hand.currency = proposed.currency
),

dropped as (
    select
        paid.credit_id,
        paid.customer_id,
        paid.currency,
        0 as due_minor,
        paid.paid_minor,
        paid.entries as paid_entries,
        null as description,
        null as policy_version
    from paid
    where paid.credit_id not in (select credit_id from proposed)
),

differences as (
    select * from lines
    union all
    select * from dropped
),

reported as (
    select distinct credit_id, due_minor, paid_minor
    from batch_exceptions
    where incident_id = $incident_id
),

final as (
    select
        *,
        due_minor - paid_minor as delta_minor,
        printf('%s-%02d', credit_id, paid_entries + 1) as entry_id
    from differences
    where differences.due_minor >= differences.paid_minor or not exists (
        select 1 from reported
        where reported.credit_id = differences.credit_id
            and reported.paid_minor = differences.paid_minor
            and reported.due_minor <= differences.due_minor
    )
)

select * from final where delta_minor <> 0 order by customer_id, currency
