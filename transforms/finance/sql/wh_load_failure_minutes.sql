-- A run's payment failure lines per minute into the warehouse (grain: run_id, minute_utc,
-- event, error_code, source_file): every line of `int_failure_lines`.
insert into run_failure_minutes by name
with

failure_lines as (
    select * from work.int_failure_lines
),

final as (
    select
        $run_id as run_id,
        $incident_id as incident_id,
        date_trunc('minute', ts_utc) as minute_utc,
        event,
        error_code,
        source_file,
        count(*) as lines
    from failure_lines
    group by all
)

select * from final
