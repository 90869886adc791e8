-- The transactions approving run $run_id pays again that a published batch of another incident
-- paid (a credited transaction of a published run) or listed to pay by hand (key: incident_id,
-- kind): `paid`, the credited transactions of the lines approval pays ($paying: their
-- credit_ids, added or increased; a line the run's own incident has paid already is not paid
-- again); `by_hand`, those of the closed accounts it lists to pay by hand ($by_hand:
-- [customer_id, currency] of the lines with something left to pay). How many, and the first.
-- Two incidents whose windows overlap pay such a transaction's customer twice, once in each.
with

mine as (
    select distinct evidence.txn_id, evidence.incident_id, 'paid' as kind
    from evidence
    inner join run_credits as lines
        on lines.run_id = evidence.run_id
        and lines.customer_id = evidence.customer_id
        and lines.currency = evidence.currency
    where evidence.run_id = $run_id and evidence.credited
        and list_contains($paying, lines.credit_id)
    union
    select distinct txn_id, incident_id, 'by_hand' as kind
    from evidence
    where run_id = $run_id and reason = 'closed_account'
        and list_contains($by_hand, [customer_id, currency])
),

credited as (
    select evidence.incident_id, evidence.txn_id
    from evidence
    inner join runs on runs.run_id = evidence.run_id
    where runs.status = 'published' and evidence.credited
),

listed as (
    select evidence.incident_id, evidence.txn_id
    from batch_pay_by_hand as listed
    inner join batches on batches.batch_id = listed.batch_id and batches.state = 'published'
    inner join evidence
        on evidence.run_id = listed.run_id
        and evidence.customer_id = listed.customer_id
        and evidence.currency = listed.currency
    where listed.to_pay_minor > 0 and evidence.reason = 'closed_account'
),

elsewhere as (
    select * from credited
    union
    select * from listed
)

select
    elsewhere.incident_id,
    mine.kind,
    count(distinct mine.txn_id) as txns,
    min(mine.txn_id) as first_txn
from mine
inner join elsewhere
    on elsewhere.txn_id = mine.txn_id and elsewhere.incident_id <> mine.incident_id
group by elsewhere.incident_id, mine.kind
order by elsewhere.incident_id, mine.kind desc
