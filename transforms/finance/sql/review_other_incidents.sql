-- The run's credited transactions that a published run of another incident credited too (key:
-- incident_id): how many, and the first of them. Two incidents whose windows overlap pay such a
-- transaction's customer twice, once in each incident's ledger.
with

mine as (
    select distinct txn_id, incident_id from evidence where run_id = $run_id and credited
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
