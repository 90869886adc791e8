-- The runs of incident $incident_id, or of every incident when it is null (key: run_id), oldest
-- first in the order the journal saw them start (`run_starts`, as `runs_ordered` orders them),
-- never by the machines' clocks: a machine whose clock ran fast put its older run last.
select runs.*
from runs
left join run_starts on run_starts.run_id = runs.run_id
where $incident_id is null or runs.incident_id = $incident_id
order by run_starts.started_seq nulls first, runs.started_at, runs.run_id
