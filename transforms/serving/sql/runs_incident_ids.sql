-- The incidents the warehouse holds a run of (grain: incident_id), sorted.
select distinct incident_id from runs order by incident_id
