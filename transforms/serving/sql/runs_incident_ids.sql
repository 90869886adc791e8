-- The incidents the warehouse holds a run of (grain: incident_id), sorted: a run loaded, or only
-- started (the journal's `started` entry of a run stopped before it was loaded, or running now).
select incident_id from runs
union
select incident_id from journal where event = 'started' and incident_id is not null
order by incident_id
