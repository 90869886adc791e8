-- Known customer ids that differ from $customer_id only in case (key: customer_id): what a
-- mistyped paste most likely meant. Ids are case-sensitive, so these are suggestions only.
select distinct customer_id
from (
    select customer_id from run_customers
    union all
    select customer_id from evidence
    union all
    select customer_id from ledger
)
where lower(customer_id) = lower($customer_id) and customer_id <> $customer_id
order by customer_id
