-- The batches of incident $incident_id, or of every incident when it is null (key: batch_id),
-- each incident's in the order they were made: by the number after `-B` (B1000 after B999,
-- which the text of the ids puts first).
select *
from batches
where $incident_id is null or incident_id = $incident_id
order by
    incident_id,
    try_cast(substr(batch_id, length(incident_id) + 3) as bigint),
    batch_id
