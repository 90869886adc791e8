-- The customers this run used (key: customer_id): those of the candidate transactions, and any
-- row without a customer_id (it could be any candidate's customer: the gate must see it).
select customers.*
from stg_customers as customers
where customers.customer_id in (select customer_id from int_candidates_classified)
    or customers.customer_id is null
order by customers.customer_id
