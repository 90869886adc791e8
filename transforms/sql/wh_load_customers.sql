-- The customers a run touched into the warehouse (grain: run_id, customer_id).
insert into run_customers
select distinct on (customers.customer_id)
    $run_id as run_id,
    customers.customer_id,
    customers.name,
    customers.email,
    customers.country,
    customers.segment,
    customers.status
from work.stg_customers as customers
where customers.customer_id in (select customer_id from work.evidence)
order by customers.customer_id
