-- The minutes the read log files cover within [$lower, $upper): the first and the last minute
-- holding a well-formed line (from `log_files`' time spans of the lines within that range: a
-- line stamped 1970 stretches no span), clipped to that range. Nulls when no file has a
-- well-formed line there.
with

spans as (
    select near_min_ts_utc as min_ts_utc, near_max_ts_utc as max_ts_utc from log_files
    where near_min_ts_utc < $upper and near_max_ts_utc >= $lower
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
