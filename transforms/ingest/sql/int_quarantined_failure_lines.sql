-- The quarantined log lines that are failure lines (key: file_id, line): its event, as far as
-- it was read, is a failure event (`is_quarantined_failure`: an amount of 12.5 or 0, a
-- customer_id that is not a string), or its text (a line over 1 MiB: its preview) names one
-- as a whole name, $failure_names (a line no record could be read from: another envelope's,
-- such as a CRI line in a Docker json-file file, or one cut off mid-record). Under the
-- quarantine limits the run passes without them, so the gate warns of them (`int_file_profile`).
create or replace table int_quarantined_failure_lines as
select file_id, line, quarantine_reason
from stg_log_quarantine
where is_quarantined_failure or coalesce(regexp_matches(raw, $failure_names), false)
