-- The runs a published batch paid from (key: run_id): a payment an earlier run credited is
-- looked for there when the incident's newest run no longer lists it.
select distinct run_id
from batches
where state = 'published'
order by run_id
