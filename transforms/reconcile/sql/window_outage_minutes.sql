-- Outage-coded failure lines per minute and code within [$lower, $upper) (grain: minute_utc,
-- error_code): every line of `int_failure_lines` (well-formed, a duplicate counted once) whose
-- code is in $outage_error_codes. Minutes without such a line have no row.
with

failure_lines as (
    select * from int_failure_lines
    where ts_utc >= $lower and ts_utc < $upper
),

final as (
    select
        date_trunc('minute', ts_utc) as minute_utc,
        error_code,
        count(*) as lines
    from failure_lines
    where list_contains($outage_error_codes, error_code)
    group by all
)

select * from final order by minute_utc, error_code
