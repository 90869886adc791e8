-- Support's customer list for incident $incident_id as its answering run $run_id says (key:
-- customer_id, currency): every customer and currency with a candidate transaction or a credit
-- line in that run, or a payment in the ledger for the incident; one customer when $customer_id
-- is not null. `paid_minor` is what the ledger paid for the credit_id by published batches, from
-- any run (`paid_run_ids`);
-- `owed_minor` is a closed account's credit, or an unknown customer's (`owed_unknown`), owed
-- and paid by finance by hand;
-- `listed_by_hand_minor` what published batches listed to pay by hand (from any run).
-- `credit_status` (support.CreditStatus): a closed account or unknown customer the run owes is
-- `by_hand` (an unknown customer only when owed more than 0), and so is
-- no credit line and nothing paid when a batch listed one, else `excluded`; a credit line paid
-- (or listed to pay by hand) less than it proposes is `pending`; anything else is `published`.
-- Filters: only segment $segment and status $status when not null. Paging: with $page_size not
-- null, only the lines of page $page (from 1; clamped to the first and the last page);
-- `line_number` (from 1) and `listed_count` count the lines that pass the filters.
with

candidates as (
    select * from evidence
    where run_id = $run_id and customer_id is not null
        and ($customer_id is null or customer_id = $customer_id)
),

failures as (
    select
        customer_id,
        currency,
        count(*) as failed_txn_count,
        min(first_failure_at) as first_failure_utc,
        max(last_failure_at) as last_failure_utc,
        list_sort(list(distinct reason) filter (where not credited)) as reasons
    from candidates
    group by customer_id, currency
),

lines as (
    select credit_id, customer_id, currency, credit_amount_minor, credited_txn_count
    from run_credits
    where run_id = $run_id and ($customer_id is null or customer_id = $customer_id)
),

owed as (
    -- a closed account's credit, and an unknown customer's (owed, held until finance finds
    -- out who it is): finance pays either by hand
    select
        customer_id,
        currency,
        sum(credit_owed_minor)::bigint as owed_minor,
        bool_or(exception = 'unknown_customer') as owed_unknown
    from run_exceptions
    where run_id = $run_id and exception in ('closed_account', 'unknown_customer')
        and customer_id is not null
        and ($customer_id is null or customer_id = $customer_id)
    group by customer_id, currency
),

paid as (
    select
        ledger.credit_id,
        ledger.customer_id,
        ledger.currency,
        sum(ledger.amount_minor)::bigint as paid_minor,
        list_sort(list(distinct ledger.batch_id)) as batch_ids,
        list_sort(list(distinct ledger.run_id)) as paid_run_ids,
        max(ledger.published_at) as last_published_at
    from ledger
    -- paid by a published batch only: one an approval left writing (stopped before its trailer)
    -- is in no outbox finance picks up yet
    inner join batches on batches.batch_id = ledger.batch_id and batches.state = 'published'
    where ledger.incident_id = $incident_id
        and ($customer_id is null or ledger.customer_id = $customer_id)
    group by ledger.credit_id, ledger.customer_id, ledger.currency
),

by_hand as (
    -- what published batches listed to pay by hand (a closed account), whichever run did
    select
        listed.customer_id,
        listed.currency,
        sum(listed.to_pay_minor)::bigint as listed_by_hand_minor
    from batch_pay_by_hand as listed
    inner join batches on batches.batch_id = listed.batch_id and batches.state = 'published'
    where listed.incident_id = $incident_id
        and ($customer_id is null or listed.customer_id = $customer_id)
    group by listed.customer_id, listed.currency
),

keys as (
    select customer_id, currency from failures
    union
    select customer_id, currency from lines
    union
    select customer_id, currency from paid
    union
    select customer_id, currency from owed
    union
    select customer_id, currency from by_hand
),

people as (
    -- as the answering run saw the customer, else the newest sealed run of the incident that
    -- did and passed the gate (a rejected run's customer table may repeat or mangle the
    -- customer; a run still `sealing` may be either), newest in the warehouse's order of starts
    -- (`runs_ordered`), not by clocks
    select distinct on (run_customers.customer_id) run_customers.*
    from run_customers
    inner join runs_ordered as runs on runs.run_id = run_customers.run_id
    where runs.incident_id = $incident_id
        and runs.status in ('pending_approval', 'published', 'declined')
        and ($customer_id is null or run_customers.customer_id = $customer_id)
    order by run_customers.customer_id, run_customers.run_id = $run_id desc, runs.newness
),

joined as (
    select
        keys.customer_id,
        people.name,
        people.email,
        people.country,
        people.segment,
        people.status as account_status,
        keys.currency,
        coalesce(failures.failed_txn_count, 0) as failed_txn_count,
        failures.first_failure_utc,
        failures.last_failure_utc,
        lines.credit_id,
        lines.credit_amount_minor,
        lines.credited_txn_count,
        paid.paid_minor,
        paid.batch_ids,
        paid.last_published_at,
        coalesce(paid.paid_run_ids, []) as paid_run_ids,
        owed.owed_minor,
        coalesce(owed.owed_unknown, false) as owed_unknown,
        by_hand.listed_by_hand_minor,
        coalesce(failures.reasons, []) as reasons
    from keys
    left join failures
        on failures.customer_id = keys.customer_id
        and failures.currency is not distinct from keys.currency
    left join lines
        on lines.customer_id = keys.customer_id
        and lines.currency is not distinct from keys.currency
    left join paid
        on paid.customer_id = keys.customer_id
        and paid.currency is not distinct from keys.currency
    left join owed
        on owed.customer_id = keys.customer_id
        and owed.currency is not distinct from keys.currency
    left join by_hand
        on by_hand.customer_id = keys.customer_id
        and by_hand.currency is not distinct from keys.currency
    left join people on people.customer_id = keys.customer_id
),

classified as (
    select
        *,
        case
            -- the answering run owes a closed account: finance pays it by hand, whatever a
            -- batch paid before the account closed; an unknown customer owed 0 (the policy's
            -- credit comes to zero) is owed nothing to pay by hand
            when owed_minor is not null and (owed_minor > 0 or not owed_unknown) then 'by_hand'
            when credit_id is null and coalesce(paid_minor, 0) = 0 then
                case when listed_by_hand_minor is not null then 'by_hand' else 'excluded' end
            -- what batches listed to pay by hand counts as paid, as approval counts it
            when credit_amount_minor is not null
                and coalesce(paid_minor, 0) + coalesce(listed_by_hand_minor, 0)
                < credit_amount_minor then 'pending'
            else 'published'
        end as credit_status
    from joined
),

listed as (
    select
        *,
        row_number() over (order by customer_id, currency nulls last) as line_number,
        count(*) over () as listed_count
    from classified
    where ($segment is null or segment = $segment)
        and ($status is null or credit_status = $status)
),

paged as (
    select * from listed
    where $page_size is null
        or (line_number - 1) // $page_size
        = least(greatest($page, 1) - 1, (listed_count - 1) // $page_size)
),

wall_clock as (
    -- the page's times on the clocks of time zone $timezone, and how far those are from UTC
    select
        *,
        first_failure_utc at time zone $timezone as first_failure_wall,
        last_failure_utc at time zone $timezone as last_failure_wall,
        round(epoch(first_failure_wall) - epoch(first_failure_utc))::bigint as first_offset_s,
        round(epoch(last_failure_wall) - epoch(last_failure_utc))::bigint as last_offset_s
    from paged
),

final as (
    -- local times as ISO 8601 to the second, as Python's isoformat writes them:
    -- 2025-01-07T14:20:31-05:00 (the offset's seconds only when it has some)
    select
        * exclude (
            first_failure_utc, last_failure_utc, last_published_at,
            first_failure_wall, last_failure_wall, first_offset_s, last_offset_s
        ),
        strftime(first_failure_wall, '%Y-%m-%dT%H:%M:%S')
        || format(
            '{}{:02d}:{:02d}', if(first_offset_s < 0, '-', '+'),
            abs(first_offset_s) // 3600, abs(first_offset_s) % 3600 // 60
        )
        || if(abs(first_offset_s) % 60 = 0, '', format(':{:02d}', abs(first_offset_s) % 60))
            as first_failure_local,
        strftime(last_failure_wall, '%Y-%m-%dT%H:%M:%S')
        || format(
            '{}{:02d}:{:02d}', if(last_offset_s < 0, '-', '+'),
            abs(last_offset_s) // 3600, abs(last_offset_s) % 3600 // 60
        )
        || if(abs(last_offset_s) % 60 = 0, '', format(':{:02d}', abs(last_offset_s) % 60))
            as last_failure_local,
        strftime(last_published_at at time zone $timezone, '%Y-%m-%d') as last_published_on_local
    from wall_clock
)

select * from final order by line_number
