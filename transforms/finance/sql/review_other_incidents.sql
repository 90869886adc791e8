-- The credited transactions of run $run_id's lines that approving it pays ($paying: their
-- credit_ids, added or increased) which a published run of another incident credited too (key:
-- incident_id): how many, and the first of them. Two incidents whose windows overlap pay such a
-- transaction's customer twice, once in each incident's ledger; a line the run's own incident
-- has paid already is not paid again by this approval.
with

mine as (
    select distinct evidence.txn_id, evidence.incident_id
    from evidence
    inner join run_credits as lines
        on lines.run_id = evidence.run_id
        and lines.customer_id = evidence.customer_id
        and lines.currency = evidence.currency
    where evidence.run_id = $run_id and evidence.credited
        and list_contains($paying, lines.credit_id)
),

published as (
    select evidence.incident_id, evidence.txn_id
    from evidence
    inner join runs on runs.run_id = evidence.run_id
    where runs.status = 'published' and evidence.credited
)

select published.incident_id, count(distinct mine.txn_id) as txns, min(mine.txn_id) as first_txn
from mine
inner join published
    on published.txn_id = mine.txn_id and published.incident_id <> mine.incident_id
group by published.incident_id
order by published.incident_id
