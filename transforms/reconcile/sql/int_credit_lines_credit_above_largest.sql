-- The first credit line owed (payable, or for finance by hand) whose credit comes above $largest
-- minor units: a percent above 100 can price one so (key: customer_id, currency); no credit is
-- that large.
select customer_id, currency, failed_amount_minor, credit_amount_minor
from int_credit_lines
where customer_block is distinct from 'excluded_segment'
    and credit_amount_minor > $largest
order by customer_id, currency
limit 1
