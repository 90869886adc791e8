-- A run's payment failure lines per minute (grain: minute_utc, event, error_code, source_file).
select minute_utc, event, error_code, source_file, lines
from run_failure_minutes
where run_id = $run_id
order by minute_utc, event, error_code, source_file
