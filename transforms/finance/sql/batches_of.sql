-- The batches of incident $incident_id, or of every incident when it is null (key: batch_id).
select *
from batches
where $incident_id is null or incident_id = $incident_id
order by batch_id
