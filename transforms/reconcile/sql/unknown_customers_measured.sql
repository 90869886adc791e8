-- The credit lines whose customer the customer table does not hold, against all credit lines
-- (one row): how many, and one such id with the customer table's id it matches once blanks and
-- case are set aside (null: none does), the likeliest cause when most lines are unknown.
with

lines as (
    select customer_id, customer_block from int_credit_lines
),

unknown as (
    select customer_id from lines where customer_block = 'unknown_customer'
),

example as (
    select unknown.customer_id, min(customers.customer_id) as near
    from unknown
    left join stg_customers as customers
        on lower(trim(customers.customer_id)) = lower(trim(unknown.customer_id))
    group by unknown.customer_id
    order by near is null, unknown.customer_id
    limit 1
)

select
    (select count(*) from unknown) as unknown_lines,
    (select count(*) from lines) as all_lines,
    (select customer_id from example) as example_id,
    (select near from example) as example_near
