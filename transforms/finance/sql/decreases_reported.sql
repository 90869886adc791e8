-- The decreases incident $incident_id's batches already reported (key: credit_id, paid_minor):
-- the least amount due reported against that amount paid. A credit due as much or more against
-- the same amount paid is no new decrease, to report or decide again.
select credit_id, paid_minor, min(due_minor) as least_due_minor
from batch_exceptions
where incident_id = $incident_id
group by credit_id, paid_minor
