-- The newest journal entry (at most one row), columns as in journal_entries.
select
    seq, recorded_at, incident_id, run_id, event, actor, cast(detail as varchar), prev_hash, hash,
    link
from journal
order by seq desc
limit 1
