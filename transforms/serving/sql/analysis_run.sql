-- The run an analysis of incident $incident_id reads (at most one row): its answering run (the
-- newest that passed the gate and was not declined), else its newest sealed run of any status,
-- newest in the order the warehouse saw runs start (`runs_ordered`)
-- (a run still `sealing`, or killed before its manifest, is never read); with its policy's
-- outage error codes.
select
    run_id,
    incident_id,
    incident_title,
    timezone,
    status,
    window_start_utc,
    window_end_utc,
    cast(manifest -> '$.policy.outage_error_codes' as varchar[]) as outage_error_codes
from runs_ordered
where incident_id = $incident_id and status <> 'sealing'
order by status in ('pending_approval', 'published') desc, newness
limit 1
