-- The log lines quarantined for a currency that is no money on the incident's days (a code,
-- withdrawn or no territory's tender: `stg_logs` gives them the reason $reason_pattern matches,
-- its first group the code), one row per currency (key: currency), sorted: how many lines, and
-- the first of them. A failure in one is a payment no credit can be paid in, and under the
-- quarantine limits it would be dropped unseen: the gate rejects the run naming it.
with

quarantined as (
    select
        log_files.name as file,
        quarantine.line,
        regexp_extract(quarantine.quarantine_reason, $reason_pattern, 1) as currency
    from stg_log_quarantine as quarantine
    inner join log_files using (file_id)
    where regexp_matches(quarantine.quarantine_reason, $reason_pattern)
),

final as (
    select
        currency,
        count(*) as lines,
        arg_min(file, (file, line)) as first_file,
        arg_min(line, (file, line)) as first_line
    from quarantined
    group by currency
    order by currency
)

select * from final
