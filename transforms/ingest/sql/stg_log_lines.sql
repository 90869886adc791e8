-- The well-formed log lines that are not failure events (key: file_id, line), from the map's
-- extracts: no fields are kept, only whether the line is a payment event and its 64-bit hash.
create or replace table stg_log_lines as
select file_id, line, is_payment_event
from read_parquet($paths)
