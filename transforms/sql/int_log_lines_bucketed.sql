-- Every log line in exactly one bucket (key: file_id, line):
--   quarantined  breaks the log contract (see stg_logs.quarantine_reason);
--   duplicate    byte-identical to an earlier well-formed line (files in name order, then line);
--   relevant     a candidate failure: an event in $failure_events with ts in [$window_start, $window_end);
--   irrelevant   any other well-formed line.
create or replace table int_log_lines_bucketed as
with

numbered as (
    select
        *,
        case when quarantine_reason is null then
            row_number() over (partition by quarantine_reason is null, line_hash order by file_id, line)
        end as occurrence
    from stg_logs
),

final as (
    select
        *,
        case
            when quarantine_reason is not null then 'quarantined'
            when occurrence > 1 then 'duplicate'
            when list_contains($failure_events, event)
                and ts_utc >= $window_start and ts_utc < $window_end then 'relevant'
            else 'irrelevant'
        end as bucket
    from numbered
)

select * from final
