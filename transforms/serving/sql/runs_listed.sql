-- Every run in the warehouse, newest first (grain: run_id), with its status as it is now:
-- sealing | pending_approval | rejected | declined | published. An empty $statuses means all;
-- a null $incident_id means every incident. Totals and the incident file come from the run's
-- manifest (JSON): `totals_minor` is {currency: minor units}.
with

runs_chosen as (
    select *
    from runs
    where
        ($incident_id is null or incident_id = $incident_id)
        and (len($statuses) = 0 or list_contains($statuses, status))
),

final as (
    select
        run_id,
        incident_id,
        timezone,
        window_start_utc,
        window_end_utc,
        started_at,
        status,
        decided_by,
        decided_at,
        batch_id,
        manifest ->> '$.verdict' as verdict,
        cast(manifest -> '$.totals_minor' as varchar) as totals_minor_json,
        manifest ->> '$.incident.file.path' as incident_file,
        manifest ->> '$.incident.file.sha256' as incident_file_sha256
    from runs_chosen
)

select * from final order by started_at desc, run_id desc
