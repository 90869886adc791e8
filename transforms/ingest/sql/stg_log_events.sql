-- The well-formed lines of a failure event, at any time (key: file_id, line), from the map's
-- extracts: their fields, and two hashes of their bytes to find byte-identical duplicates.
create or replace table stg_log_events as
select
    file_id,
    line,
    line_hash,
    line_md5,
    ts_utc,
    event,
    txn_id,
    customer_id,
    amount_minor,
    currency,
    error_code
from read_parquet($paths)
