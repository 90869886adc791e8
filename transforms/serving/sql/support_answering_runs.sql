-- Per incident (key: incident_id): its newest run, and the run that answers support's questions:
-- the newest that passed the quality gate and was not declined by finance (pending_approval or
-- published). A rejected or declined run never says what a customer gets; null when none passed.
with

runs_newest_first as (
    -- newest in the order the warehouse saw runs start (`run_starts`), not by machine clocks
    select
        runs.*,
        row_number() over (
            partition by runs.incident_id
            order by run_starts.started_seq desc nulls last, runs.started_at desc, runs.run_id desc
        ) as newness
    from runs
    left join run_starts on run_starts.run_id = runs.run_id
    where runs.status in ('pending_approval', 'published')
),

answering as (
    select * from runs_newest_first where newness = 1
),

final as (
    select
        latest.incident_id,
        coalesce(answering.incident_title, latest.incident_title) as incident_title,
        latest.timezone,
        answering.run_id,
        answering.status,
        latest.run_id as latest_run_id,
        latest.status as latest_status
    from latest_runs as latest
    left join answering on answering.incident_id = latest.incident_id
)

select * from final order by incident_id
