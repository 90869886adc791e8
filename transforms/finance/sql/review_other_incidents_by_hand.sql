-- The transactions of run $run_id's closed accounts that approving it lists to pay by hand
-- ($by_hand: [customer_id, currency] of its lines with something left to pay) which a published
-- batch of another incident paid (a credited transaction of a published run) or listed to pay by
-- hand too (key: incident_id): how many, and the first of them. Two incidents whose windows
-- overlap pay such a transaction's customer twice, once in each incident.
with

mine as (
    select distinct txn_id, incident_id
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

select elsewhere.incident_id, count(distinct mine.txn_id) as txns, min(mine.txn_id) as first_txn
from mine
inner join elsewhere
    on elsewhere.txn_id = mine.txn_id and elsewhere.incident_id <> mine.incident_id
group by elsewhere.incident_id
order by elsewhere.incident_id
