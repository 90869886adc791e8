-- The minutes the read log files cover within [$lower, $upper): the first and the last minute
-- holding a well-formed line (from `log_files`' time spans), clipped to that range. Nulls when
-- no file has a well-formed line there.
with

spans as (
    select min_ts_utc, max_ts_utc from log_files
    where min_ts_utc < $upper and max_ts_utc >= $lower
),

final as (
    -- `greatest` and `least` skip a NULL: without a file there, both stay NULL explicitly.
    select
        case when count(*) > 0
            then date_trunc('minute', greatest(min(min_ts_utc), $lower))
        end as first_minute_utc,
        case when count(*) > 0
            then date_trunc('minute', least(max(max_ts_utc), $upper - interval 1 microsecond))
        end as last_minute_utc
    from spans
)

select * from final
