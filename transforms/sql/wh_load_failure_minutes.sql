-- A run's payment failure lines per minute into the warehouse (grain: run_id, minute_utc,
-- event, error_code, source_file): every well-formed line of an event in $failure_events, over
-- the whole span of the logs, a duplicate line counted once.
insert into run_failure_minutes by name
with

lines as (
    select * from work.int_log_events_bucketed
),

files as (
    select file_id, name from work.log_files
),

failure_lines as (
    select
        lines.ts_utc,
        lines.event,
        lines.error_code,
        files.name as source_file
    from lines
    inner join files on files.file_id = lines.file_id
    where lines.bucket in ('relevant', 'irrelevant')
        and list_contains($failure_events, lines.event)
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
