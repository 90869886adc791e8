-- The most log lines the run may quarantine over all its files: `max_quarantined_share` of the
-- lines read (one row).
select coalesce(sum(lines), 0) * $max_quarantined_share as max_quarantined_lines
from int_file_profile
