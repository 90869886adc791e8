-- Run $run_id's credit lines in the warehouse, counted and summed per currency (grain: currency):
-- what approving would pay, to check against the run's sealed manifest.
select currency, count(*) as lines, cast(sum(credit_amount_minor) as bigint) as total_minor
from run_credits
where run_id = $run_id
group by currency
order by currency
