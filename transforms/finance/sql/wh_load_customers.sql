-- The customers a run touched into the warehouse (grain: run_id, customer_id; a rejected run
-- keeps a customer the customer table repeats as often as it does).
insert into run_customers
select
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
