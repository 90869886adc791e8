-- Where the journal recorded the start of run $run_id (its `started` entry's seq; no row: none).
select min(seq) as started_seq
from journal
where run_id = $run_id and event = 'started'
having count(*) > 0
