-- The newest published run of incident $incident_id (at most one row), in the order the
-- warehouse saw runs start (`runs_ordered`, not the machines' clocks): a run that started
-- before it is superseded.
select * exclude (started_seq, newness)
from runs_ordered
where incident_id = $incident_id and status = 'published'
order by newness
limit 1
