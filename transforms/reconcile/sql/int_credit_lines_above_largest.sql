-- The first (customer, currency) to credit whose failed amounts sum beyond ±$largest minor units
-- (negative amounts too: the gate rejects them, after this), or whose flat credit per transaction
-- comes above it without a cap to hold it down (a cap is at most $largest: the capped credit is
-- paid): no payment or credit is that large, and the credit lines' 64-bit integers could not
-- hold it (key: customer_id, currency).
select
    credited.customer_id,
    credited.currency,
    sum(cast(credited.amount_minor as hugeint)) as failed_amount_minor,
    count(*) * cast(any_value(policy_amounts.flat_minor) as hugeint) as flat_amount_minor
from int_candidates_classified as credited
left join policy_amounts on policy_amounts.currency = credited.currency
where credited.class_credited
group by credited.customer_id, credited.currency
having abs(sum(cast(credited.amount_minor as hugeint))) > $largest
    or ($basis = 'flat_per_transaction'
        and count(*) * cast(any_value(policy_amounts.flat_minor) as hugeint) > $largest
        and any_value(policy_amounts.cap_minor) is null)
order by credited.customer_id, credited.currency
limit 1
