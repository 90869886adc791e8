-- The newest ledger entry of incident $incident_id (at most one row), columns as in ledger_entries.
select
    entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id, run_id,
    epoch_us(published_at) as published_at_us, seq, prev_hash, hash, link
from ledger
where incident_id = $incident_id
order by seq desc nulls last
limit 1
