-- Every run in the warehouse, newest first in the order the journal saw them start (grain:
-- run_id; `runs_ordered`, as approval orders them, never the machines' clocks: a machine whose
-- clock ran fast listed its older run above a newer one), with its status as it is now:
-- sealing | pending_approval | rejected | declined | published. An empty $statuses means all;
-- a null $incident_id means every incident. Totals and the incident file come from the run's
-- manifest (JSON): `totals_minor` is {currency: minor units}.
with

runs_chosen as (
    select *
    from runs_ordered  -- each run's newness in its incident, as approval orders them
    where
        ($incident_id is null or incident_id = $incident_id)
        and (len($statuses) = 0 or list_contains($statuses, status))
),

-- Each incident's newest published run: a pending run that started before it is superseded
-- (approval refuses it, as runs_newest_published.sql orders them).
newest_published as (
    select distinct on (incident_id)
        incident_id,
        run_id as published_run_id,
        newness as published_newness
    from runs_ordered
    where status = 'published'
    order by incident_id, newness
),

batch_states as (
    select batch_id, state as batch_state, folder as batch_folder from batches
),

final as (
    select
        run_id,
        runs_chosen.incident_id,
        timezone,
        window_start_utc,
        window_end_utc,
        started_at,
        started_seq,
        status,
        run_folder,
        decided_by,
        decided_at,
        runs_chosen.batch_id,
        batch_states.batch_state,  -- writing: an approval stopped before it marked it
        batch_states.batch_folder,  -- where it was written (its trailer there: final)
        manifest ->> '$.verdict' as verdict,
        cast(manifest -> '$.totals_minor' as varchar) as totals_minor_json,
        manifest ->> '$.incident.file.path' as incident_file,
        manifest ->> '$.incident.file.sha256' as incident_file_sha256,
        case
            when status = 'pending_approval' and newness > published_newness
                then published_run_id
        end as superseded_by
    from runs_chosen
    left join newest_published on runs_chosen.incident_id = newest_published.incident_id
    left join batch_states on runs_chosen.batch_id = batch_states.batch_id
)

select * exclude (started_seq)
from final
order by started_seq desc nulls last, started_at desc, run_id desc
