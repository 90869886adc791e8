-- The well-formed log lines that are not failure events (key: file_id, line), from the map's
-- extracts: no fields are kept, only whether the line is a payment event and its event when
-- it is a failure event written otherwise (`Payment.Failed`; null for any other line).
create or replace table stg_log_lines as
select file_id, line, is_payment_event, event_written_otherwise
from read_parquet($paths)
