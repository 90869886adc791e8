-- Customer ids that hold a control, format or space character other than an inner U+0020
-- ($hidden: a tab, CR, LF, U+00A0, U+200B, U+FEFF) or a blank at an end: the transaction
-- table's, of a candidate's row, and the customer table's, of a row standing for a candidate's
-- customer (its visible form is one: the characters removed, the blanks trimmed). Ids compare
-- exactly, so the customer matches no row and the credit is an unknown_customer exception,
-- never paid. A customer table row standing for no candidate's customer changes no credit; a
-- log line's customer_id is read as written (an unknown_customer, its detail naming it). One
-- row per table with any (`transactions`, `customers`): how many, the first id (and its
-- transaction), what it holds (the first hidden character, else U+0020) and the visible id.
with

candidates as (
    select txn_id, customer_id from int_candidates_classified
),

transactions as (
    select txn_id, customer_id from stg_transactions
),

customers as (
    select customer_id from stg_customers
),

table_rows as (
    select 'transactions' as source, transactions.txn_id, transactions.customer_id
    from candidates
    inner join transactions on transactions.txn_id = candidates.txn_id
),

customer_rows as (
    select 'customers' as source, null as txn_id, customer_id from customers
),

written_otherwise as (
    select
        source,
        txn_id,
        customer_id,
        nullif(regexp_extract(customer_id, $hidden), '') as hidden_character,
        trim(regexp_replace(customer_id, $hidden, '', 'g'), ' ') as visible
    from (select * from table_rows union all select * from customer_rows)
    -- printable ASCII words between single spaces first: a quarter of the look for a hidden one
    where not regexp_full_match(customer_id, '[!-~]+(?: [!-~]+)*')
        and (customer_id <> trim(customer_id, ' ') or regexp_matches(customer_id, $hidden))
),

wanted as (
    select
        trim(regexp_replace(customer_id, $hidden, '', 'g'), ' ') as visible
    from candidates
    where customer_id is not null
),

final as (
    select
        source,
        count(*) as ids,
        min(txn_id) as txn_id,
        arg_min(customer_id, coalesce(txn_id, customer_id)) as customer_id,
        printf(
            'U+%04X',
            unicode(coalesce(arg_min_null(hidden_character, coalesce(txn_id, customer_id)), ' '))
        ) as code_point,
        arg_min(visible, coalesce(txn_id, customer_id)) as visible
    from written_otherwise
    where source = 'transactions' or visible in (select visible from wanted)
    group by source
)

select * from final order by source desc
