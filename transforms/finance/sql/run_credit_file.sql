-- Run $run_id's credit lines in the warehouse in its credits.csv's order (outputs.CREDIT_ORDER),
-- to be written again as that file and checked against the sealed manifest's sha256.
select *
from run_credits
where run_id = $run_id
order by customer_id, currency
