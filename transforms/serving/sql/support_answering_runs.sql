-- Per incident (key: incident_id): its newest run, and the run that answers support's questions:
-- the newest that passed the quality gate and was not declined by finance (pending_approval or
-- published). A rejected or declined run never says what a customer gets; null when none passed.
with

answering as (
    -- the newest in the order the warehouse saw runs start (`runs_ordered`), not by clocks
    select * from runs_ordered
    where status in ('pending_approval', 'published')
    qualify row_number() over (partition by incident_id order by newness) = 1
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
