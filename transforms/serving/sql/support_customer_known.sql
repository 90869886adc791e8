-- Whether $customer_id is, exactly as given, a customer id the warehouse knows: an id with
-- blanks around it or an `@` in it is taken as it is before it is read as a paste to trim or
-- an e-mail address.
select exists (
    select 1 from run_customers where customer_id = $customer_id
    union all
    select 1 from evidence where customer_id = $customer_id
    union all
    select 1 from ledger where customer_id = $customer_id
)
