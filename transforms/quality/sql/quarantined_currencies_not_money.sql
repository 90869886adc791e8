-- The failure lines quarantined for their currency (key: currency), sorted: a code that is no
-- money on the incident's days (withdrawn or no territory's tender: `stg_logs` gives them the
-- reason $reason_pattern matches, its first group the code), and, as one row whose currency is
-- null, a value that is no ISO 4217 code at all (`usd`, ` USD`, `US$`: a reason starting
-- $not_iso_reason, an envelope's record's followed by its position); how many lines, and the
-- first of them. A failure in one is a payment no credit can be paid in as logged, and under
-- the quarantine limits it would be dropped unseen: the gate rejects the run naming it. A line
-- of another event (`payment.succeeded`, checked in full under `line_checks = "all"`) changes
-- no credit: it stays quarantined, and rejects nothing.
with

quarantined as (
    select
        log_files.name as file,
        quarantine.line,
        nullif(regexp_extract(quarantine.quarantine_reason, $reason_pattern, 1), '') as currency
    from stg_log_quarantine as quarantine
    inner join log_files using (file_id)
    where quarantine.is_quarantined_failure
        and (
            regexp_matches(quarantine.quarantine_reason, $reason_pattern)
            or starts_with(quarantine.quarantine_reason, $not_iso_reason)
        )
),

final as (
    select
        currency,
        count(*) as lines,
        arg_min(file, (file, line)) as first_file,
        arg_min(line, (file, line)) as first_line
    from quarantined
    group by currency
    order by currency nulls last
)

select * from final
