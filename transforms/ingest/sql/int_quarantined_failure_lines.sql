-- The quarantined log lines that are failure lines (key: file_id, line): its event, as far as
-- it was read, is a failure event (`is_quarantined_failure`: an amount of 12.5 or 0, a
-- customer_id that is not a string), or its text (a line over 1 MiB: its preview) names one
-- as a whole name, $failure_names (a line no record could be read from: another envelope's,
-- such as a CRI line in a Docker json-file file, or one cut off mid-record). Under the
-- quarantine limits the run passes without them, so the gate warns of them (`int_file_profile`).
-- A line whose text gives its txn_id's key ($txn_id: group 1 the value after `"txn_id": `,
-- `txn_id=` or an OTLP attribute's key, a run of characters no JSON or logfmt syntax holds) the
-- txn_id of a candidate failure line of the window (`stg_failures`) is left out: that payment
-- is read from its other line (a record cut off before its whole copy, a retry logged twice),
-- so nothing of it goes uncredited unseen. Only the key's value: a candidate's txn_id as
-- another field's value (a customer_id, an error code) says nothing of this line's payment.
create or replace table int_quarantined_failure_lines as
with

failure_lines as (
    select file_id, line, quarantine_reason, raw
    from stg_log_quarantine
    where is_quarantined_failure or coalesce(regexp_matches(raw, $failure_names), false)
),

txn_ids as (
    select file_id, line, unnest(regexp_extract_all(raw, $txn_id, 1)) as txn_id
    from failure_lines
),

covered as (
    select distinct txn_ids.file_id, txn_ids.line
    from txn_ids
    semi join stg_failures on stg_failures.txn_id = txn_ids.txn_id
),

final as (
    select failure_lines.file_id, failure_lines.line, failure_lines.quarantine_reason
    from failure_lines
    anti join covered
        on covered.file_id = failure_lines.file_id and covered.line = failure_lines.line
)

select * from final
