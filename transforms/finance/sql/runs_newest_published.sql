-- The newest published run of incident $incident_id (at most one row): a run that started before
-- it is superseded (ties broken by run_id, as latest_runs does).
select *
from runs
where incident_id = $incident_id and status = 'published'
order by started_at desc, run_id desc
limit 1
