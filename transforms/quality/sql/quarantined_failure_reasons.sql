-- The quarantined failure lines (`int_quarantined_failure_lines`) grouped by reason, the most
-- lines first (at most $shown reasons), a reason without the position in its envelope line that
-- an OTLP or CloudWatch record's names ($position: `(envelope = "otlp": line 4, record 1)`),
-- with the run's totals on every row: the failure lines, the reasons, and the first line (by
-- file, then line). One row, of totals only (0, null), when there is none. What the gate's
-- warning shows: each is a failure the run did not read, its payment uncredited unless another
-- line or the table brings it in, for finance to see before it approves.
with

failures as (
    select
        log_files.name as file,
        quarantined.line,
        regexp_replace(quarantined.quarantine_reason, $position, '') as reason
    from int_quarantined_failure_lines as quarantined
    inner join log_files using (file_id)
),

reasons as (
    select reason, count(*) as lines
    from failures
    group by reason
),

totals as (
    select
        count(*) as failure_lines,
        (select count(*) from reasons) as reason_count,
        arg_min(file, (file, line)) as first_file,
        arg_min(line, (file, line)) as first_line
    from failures
),

final as (
    select
        reasons.reason,
        reasons.lines,
        totals.failure_lines,
        totals.reason_count,
        totals.first_file,
        totals.first_line
    from totals
    left join reasons on true
    order by reasons.lines desc nulls last, reasons.reason
    limit $shown
)

select * from final
