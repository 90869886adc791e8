-- The stretches within [$lower, $upper) that no read log file covers (grain: one row a
-- stretch, from_utc): between the files' time spans (`log_files`, each from its first to its
-- last well-formed line within the window's reach), where no file holds a line; whole minutes only (a stretch from the
-- minute after the last covered line to the minute of the next one), at least $min_minutes.
-- Failures there are unseen, not zero: the window's counts leave those minutes out.
with

spans as (
    select near_min_ts_utc as min_ts_utc, near_max_ts_utc as max_ts_utc from log_files
    where near_min_ts_utc is not null and near_min_ts_utc < $upper and near_max_ts_utc >= $lower
),

reached as (
    -- how far every earlier-starting file reaches, at each file's start
    select
        min_ts_utc,
        max(max_ts_utc) over (
            order by min_ts_utc, max_ts_utc rows between unbounded preceding and 1 preceding
        ) as covered_until
    from spans
),

gaps as (
    select
        date_trunc('minute', covered_until) + interval 1 minute as from_utc,
        date_trunc('minute', min_ts_utc) as to_utc
    from reached
    where covered_until is not null and min_ts_utc > covered_until
)

select from_utc, to_utc
from gaps
where to_utc - from_utc >= $min_minutes * interval 1 minute
order by from_utc
