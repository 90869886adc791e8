-- The newest published run of incident $incident_id (at most one row): the one whose start the
-- journal recorded last. The journal's order is the warehouse's own, one writer at a time,
-- whatever each machine's clock says (a clock two hours fast made an older run the newest); a
-- run the journal has no `started` entry of (an earlier version's) goes by its start time,
-- ties broken by run_id, as latest_runs does.
with

started as (
    select run_id, min(seq) as started_seq
    from journal
    where incident_id = $incident_id and event = 'started'
    group by run_id
)

select runs.*
from runs
left join started on started.run_id = runs.run_id
where runs.incident_id = $incident_id and runs.status = 'published'
order by started.started_seq desc nulls last, runs.started_at desc, runs.run_id desc
limit 1
