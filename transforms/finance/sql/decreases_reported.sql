-- The decreases incident $incident_id's batches already reported (key: credit_id, due_minor,
-- paid_minor): a credit due as much or more against the same amount paid is no new decrease, to
-- report or decide again.
select distinct credit_id, due_minor, paid_minor
from batch_exceptions
where incident_id = $incident_id
