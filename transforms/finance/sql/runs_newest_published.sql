-- The newest published run of incident $incident_id (at most one row), in the order the
-- warehouse saw runs start (`run_starts`, not the machines' clocks): a run that started before
-- it is superseded.
select runs.*
from runs
left join run_starts on run_starts.run_id = runs.run_id
where runs.incident_id = $incident_id and runs.status = 'published'
order by run_starts.started_seq desc nulls last, runs.started_at desc, runs.run_id desc
limit 1
