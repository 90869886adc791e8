-- Every quarantined log line (key: file, line), in file and line order.
select
    log_files.name as file,
    lines.line,
    lines.quarantine_reason as reason,
    lines.raw
from stg_log_quarantine as lines
inner join log_files on log_files.file_id = lines.file_id
order by lines.file_id, lines.line
