-- The report's chart: payment failure lines per minute over the span of the run's logs within
-- [$chart_start, $chart_end) (key: minute_utc), split into lines with an outage error code and
-- any other (or no) code. Every line of `int_failure_lines` (well-formed, a duplicate counted
-- once); the lines outside that range are counted in the one row whose minute_utc is null.
with

failure_lines as (
    select
        ts_utc,
        coalesce(list_contains($outage_error_codes, error_code), false) as is_outage
    from int_failure_lines
),

final as (
    select
        case when ts_utc >= $chart_start and ts_utc < $chart_end
            then date_trunc('minute', ts_utc) end as minute_utc,
        count(*) filter (where is_outage) as outage_lines,
        count(*) filter (where not is_outage) as other_lines
    from failure_lines
    group by all
)

select * from final order by minute_utc nulls last
