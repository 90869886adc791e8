-- What a window credits, per line of the credit file (key: customer_id, currency), minor units.
select customer_id, currency, credit_amount_minor
from credits
order by customer_id, currency
