-- Candidate transactions whose txn_id, or whose customer_id in the transaction table, holds a
-- control, format or space character other than U+0020 (U+00A0, U+200B, U+FEFF, U+2028), ASCII
-- white space at its ends aside. A log line whose txn_id has one is quarantined (stg_logs), so
-- such a txn_id is the table's, where the same payment logged plainly is a second candidate,
-- credited twice; such a customer_id in the table is one no one can find. A log line's
-- customer_id with one is read as written (an unknown_customer, its detail naming it): not
-- checked here. How many, and the first.
with

candidates as (
    select txn_id from int_candidates_classified
),

transactions as (
    select txn_id, customer_id from stg_transactions
),

found as (
    select
        candidates.txn_id,
        transactions.customer_id,
        regexp_extract(
            array_to_string(list_transform(
                [candidates.txn_id, transactions.customer_id],
                lambda id: trim(id, $ascii_space)
            ), ' '),
            $hidden
        ) as hidden_character,
        regexp_matches(
            trim(candidates.txn_id, $ascii_space),
            $hidden
        ) as in_txn_id
    from candidates
    left join transactions on transactions.txn_id = candidates.txn_id
),

final as (
    select
        count(*) as candidates,
        min(txn_id) as txn_id,
        arg_min(customer_id, txn_id) as customer_id,
        printf('U+%04X', unicode(arg_min(hidden_character, txn_id))) as code_point,
        arg_min(in_txn_id, txn_id) as in_txn_id
    from found
    where hidden_character <> ''
)

select * from final
