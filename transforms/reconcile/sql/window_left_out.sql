-- Outage-coded failure lines in [$from_utc, $to_utc) and the customers among them that no
-- candidate transaction of the run covers (one row): a line's customer is the table's for its
-- txn_id, else the log's own `customer_id`; a duplicate line counts once.
with

failure_lines as (
    select * from int_log_events_bucketed
    where bucket <> 'duplicate'
        and ts_utc >= $from_utc and ts_utc < $to_utc
        and list_contains($outage_error_codes, error_code)
),

transactions as (
    select txn_id, customer_id from stg_transactions
),

covered as (
    select distinct customer_id from evidence where customer_id is not null
),

with_customer as (
    select coalesce(transactions.customer_id, failure_lines.customer_id) as customer_id
    from failure_lines
    left join transactions on transactions.txn_id = failure_lines.txn_id
),

final as (
    select
        (select count(*) from failure_lines) as lines,
        count(distinct customer_id) filter (
            where customer_id not in (select customer_id from covered)
        ) as customers_left_out
    from with_customer
)

select * from final
