-- Every well-formed failure-event line, over the whole span of the logs, a duplicate line counted
-- once (key: file_id, line), with its file's name as `source_file`: what the per-minute counts
-- and the edge transactions read.
create or replace view int_failure_lines as
with

events as (
    select * from int_log_events_bucketed
),

files as (
    select file_id, name from log_files
),

final as (
    select
        events.file_id,
        events.line,
        events.ts_utc,
        events.event,
        events.txn_id,
        events.error_code,
        files.name as source_file
    from events
    inner join files on files.file_id = events.file_id
    where events.bucket in ('relevant', 'irrelevant')
)

select * from final
