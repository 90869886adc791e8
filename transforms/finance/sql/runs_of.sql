-- The runs of incident $incident_id, or of every incident when it is null (key: run_id).
select *
from runs
where $incident_id is null or incident_id = $incident_id
order by started_at, run_id
