-- The log lines quarantined for their currency (key: currency), sorted: a code that is no money
-- on the incident's days (withdrawn or no territory's tender: `stg_logs` gives them the reason
-- $reason_pattern matches, its first group the code), and, as one row whose currency is null,
-- a value that is no ISO 4217 code at all (`usd`, ` USD`, `US$`: the reason $not_iso_reason);
-- how many lines, and the first of them. A failure in one is a payment no credit can be paid in
-- as logged, and under the quarantine limits it would be dropped unseen: the gate rejects the
-- run naming it.
with

quarantined as (
    select
        log_files.name as file,
        quarantine.line,
        nullif(regexp_extract(quarantine.quarantine_reason, $reason_pattern, 1), '') as currency
    from stg_log_quarantine as quarantine
    inner join log_files using (file_id)
    where regexp_matches(quarantine.quarantine_reason, $reason_pattern)
        or quarantine.quarantine_reason = $not_iso_reason
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
