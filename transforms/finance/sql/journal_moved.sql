-- Where the warehouse was moved (`credits warehouse copy`), and when: the newest `moved` entry
-- of the journal, if any (grain: one row or none).
select json_extract_string(detail, '$.to') as moved_to, recorded_at
from journal
where event = 'moved'
order by seq desc
limit 1
