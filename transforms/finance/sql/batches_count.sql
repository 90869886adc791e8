-- How many batches an incident has had.
select count(*) from batches where incident_id = $incident_id
