-- Customer ids written otherwise: holding a control, format or space character other than an
-- inner U+0020 ($hidden: a tab, CR, LF, U+00A0, U+200B, U+FEFF) or a blank at an end, the
-- transaction table's of a candidate's row; and the customer table's, of a row standing for a
-- candidate's customer, whose id holds one, or is another Unicode form of that customer's id
-- (its visible form in NFC is one: the characters removed, the blanks trimmed). Ids compare
-- exactly, so the customer matches no row and the credit is an unknown_customer exception,
-- never paid. A customer table row standing for no candidate's customer changes no credit; a
-- log line's customer_id is read as written (an unknown_customer, its detail naming it). One
-- row per table with any (`transactions`, `customers`): how many, the first id (and its
-- transaction), how it differs (its first hidden character, else U+0020 at an end, else
-- `another Unicode form`) and the candidate's customer it stands for.
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

-- printable ASCII words between single spaces first: a quarter of the look for a hidden one
beyond_plain as (
    select
        *,
        customer_id <> trim(customer_id, ' ') or regexp_matches(customer_id, $hidden) as hidden,
        nfc_normalize(trim(regexp_replace(customer_id, $hidden, '', 'g'), ' ')) as visible
    from (select * from table_rows union all select * from customer_rows)
    where not regexp_full_match(customer_id, '[!-~]+(?: [!-~]+)*')
),

wanted as (
    select
        customer_id,
        nfc_normalize(trim(regexp_replace(customer_id, $hidden, '', 'g'), ' ')) as visible
    from candidates
    where customer_id is not null
),

written_otherwise as (
    select
        source,
        txn_id,
        customer_id,
        coalesce(
            'U+' || printf('%04X', unicode(nullif(regexp_extract(customer_id, $hidden), ''))),
            case when hidden then 'U+0020' end,
            'another Unicode form'
        ) as difference,
        visible
    from beyond_plain
    where (source = 'transactions' and hidden)
        or (
            source = 'customers'
            and (hidden or customer_id not in (select customer_id from wanted))
            and visible in (select visible from wanted)
        )
),

final as (
    select
        source,
        count(*) as ids,
        min(txn_id) as txn_id,
        arg_min(customer_id, coalesce(txn_id, customer_id)) as customer_id,
        arg_min(difference, coalesce(txn_id, customer_id)) as difference,
        arg_min(visible, coalesce(txn_id, customer_id)) as visible
    from written_otherwise
    group by source
)

select * from final order by source desc
