-- Per incident (key: incident_id): its newest run, and the run that answers support's questions:
-- the newest that passed the quality gate and was not declined by finance (pending_approval or
-- published). A rejected or declined run never says what a customer gets; null when none passed.
with

runs_newest_first as (
    select
        *,
        row_number() over (
            partition by incident_id order by started_at desc, run_id desc
        ) as newness
    from runs
    where status in ('pending_approval', 'published')
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
