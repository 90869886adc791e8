-- The lines that passed the shape check and were not parsed (`line_checks = "failure_capable"`:
-- no failure event can be on them), as runs of consecutive lines of a file (key: file_id,
-- first_line), from the map's extracts.
create or replace table stg_log_unchecked as
select file_id, first_line, last_line
from read_parquet($paths)
