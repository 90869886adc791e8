-- The customers this run used (key: customer_id): those of the candidate transactions.
select customers.*
from stg_customers as customers
where customers.customer_id in (select customer_id from int_candidates_classified)
order by customers.customer_id
