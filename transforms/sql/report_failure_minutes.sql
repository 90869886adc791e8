-- The report's chart: payment failure lines per minute over the whole span of the run's logs
-- (key: minute_utc), split into lines with an outage error code and any other (or no) code.
-- Every line of `int_failure_lines` (well-formed, a duplicate counted once).
with

failure_lines as (
    select
        ts_utc,
        coalesce(list_contains($outage_error_codes, error_code), false) as is_outage
    from int_failure_lines
),

final as (
    select
        date_trunc('minute', ts_utc) as minute_utc,
        count(*) filter (where is_outage) as outage_lines,
        count(*) filter (where not is_outage) as other_lines
    from failure_lines
    group by minute_utc
)

select * from final order by minute_utc
