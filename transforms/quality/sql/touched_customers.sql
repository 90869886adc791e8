-- The customers this run used (key: customer_id): those of the candidate transactions, and any
-- row without a customer_id, null or blank ($not_blank: the RE2 form of `customer_id_not_blank`'s
-- pattern, so the rows it refuses are here; such a row could be any candidate's customer: the
-- gate must see it, in a Parquet file as in a CSV file, whose empty cell is null).
select customers.*
from stg_customers as customers
where customers.customer_id in (select customer_id from int_candidates_classified)
    or customers.customer_id is null
    or not regexp_matches(customers.customer_id, $not_blank)
order by customers.customer_id
