-- The ledger in chain order (key: entry_id): by incident, then seq; only incident $incident_id's
-- entries when it is not null. An entry without seq (written outside the code) comes first.
select
    entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id, run_id,
    epoch_us(published_at) as published_at_us, seq, prev_hash, hash, link
from ledger
where $incident_id is null or incident_id = $incident_id
order by incident_id, seq nulls first, entry_id
