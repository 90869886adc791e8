-- Entries written before the ledger was chained (key: entry_id), in the order they get chained:
-- by incident, then as they were published.
select
    entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id, run_id,
    epoch_us(published_at) as published_at_us, seq, prev_hash, hash, link
from ledger
where hash is null
order by incident_id, published_at, batch_id, customer_id, currency, entry_id
