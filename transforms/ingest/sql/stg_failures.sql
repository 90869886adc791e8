-- Candidate failure lines: the `relevant` bucket, one row per distinct log line (key: file, line).
-- `is_edge` marks a line within the clock skew of a window edge.
create or replace table stg_failures as
with

relevant as (
    select * from int_log_events_bucketed where bucket = 'relevant'
),

files as (
    select file_id, name as file from log_files
),

final as (
    select
        files.file,
        relevant.file_id,
        relevant.line,
        relevant.ts_utc,
        relevant.event,
        relevant.txn_id,
        relevant.customer_id,
        relevant.amount_minor,
        relevant.currency,
        relevant.error_code,
        relevant.is_edge
    from relevant
    inner join files on files.file_id = relevant.file_id
)

select * from final
