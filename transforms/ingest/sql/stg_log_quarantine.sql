-- The log lines that break the log contract (key: file_id, line), from the map's extracts:
-- the reason and the raw text (a preview for a line over 1 MiB, bytes not UTF-8 escaped), and
-- whether its event is a failure event (`is_quarantined_failure`).
create or replace table stg_log_quarantine as
select file_id, line, quarantine_reason, raw, is_quarantined_failure
from read_parquet($paths)
