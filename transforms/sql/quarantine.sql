-- Every quarantined log line (key: file, line), in file and line order.
select
    log_files.name as file,
    lines.line,
    lines.quarantine_reason as reason,
    lines.raw
from int_log_lines_bucketed as lines
inner join log_files on log_files.file_id = lines.file_id
where lines.bucket = 'quarantined'
order by lines.file_id, lines.line
