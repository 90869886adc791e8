-- The customers a run can need (key: customer_id): those of the staged transaction rows that
-- can be candidates (a candidate txn_id, or failed and created in the window) and those the
-- candidate failure lines name. A superset of the customers `int_credit_lines` and the checks
-- join; a PostgreSQL read of the customer table fetches only these.
select customer_id
from stg_transactions
where customer_id is not null
    and (
        txn_id in (select txn_id from stg_failures)
        or (status = 'failed' and created_at >= $window_start and created_at < $window_end)
    )
union
select customer_id
from stg_failures
where customer_id is not null
order by customer_id
