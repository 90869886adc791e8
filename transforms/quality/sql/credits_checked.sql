-- The credit file with what its checks need beside it (key: credit_id): the policy's floor and
-- cap for the currency (1 and the largest bigint when absent) and the customer's record.
select
    credits.*,
    coalesce(policy_amounts.min_minor, 1) as policy_min_minor,
    coalesce(policy_amounts.cap_minor, 9223372036854775807) as policy_cap_minor,
    customers.customer_id is not null as customer_known,
    customers.segment as customer_segment,
    customers.status as customer_status
from credits
left join policy_amounts on policy_amounts.currency = credits.currency
left join (
    select * from stg_customers qualify row_number() over (partition by customer_id) = 1
) as customers on customers.customer_id = credits.customer_id
order by credits.credit_id
