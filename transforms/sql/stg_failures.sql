-- Candidate failure lines: the `relevant` bucket, one row per distinct log line (key: file, line).
create or replace table stg_failures as
with

relevant as (
    select * from int_log_lines_bucketed where bucket = 'relevant'
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
        relevant.error_code
    from relevant
    inner join files on files.file_id = relevant.file_id
)

select * from final
