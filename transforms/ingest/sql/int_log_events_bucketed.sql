-- Every failure-event line in one bucket (key: file_id, line):
--   duplicate    byte-identical to an earlier failure-event line (files in name order, then line),
--                compared on two hashes of the bytes (64-bit and md5);
--   relevant     a candidate failure: ts in the window widened by the clock skew,
--                [$window_start - $skew, $window_end + $skew);
--   irrelevant   the other failure-event lines (before or after the window).
-- `is_edge`: a relevant line within the skew of a window edge, whose side of it is uncertain.
create or replace table int_log_events_bucketed as
with

events as (
    select * from stg_log_events
),

numbered as (
    select
        *,
        row_number() over (partition by line_hash, line_md5 order by file_id, line) as occurrence
    from events
),

final as (
    select
        *,
        case
            when occurrence > 1 then 'duplicate'
            when ts_utc >= $window_start - $skew and ts_utc < $window_end + $skew then 'relevant'
            else 'irrelevant'
        end as bucket,
        occurrence = 1 and (
            (ts_utc >= $window_start - $skew and ts_utc < $window_start + $skew)
            or (ts_utc >= $window_end - $skew and ts_utc < $window_end + $skew)
        ) as is_edge
    from numbered
)

select * from final
