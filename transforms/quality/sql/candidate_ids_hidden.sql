-- Candidate transactions whose txn_id holds a control, format or space character other than
-- U+0020 (U+00A0, U+200B, U+FEFF, U+2028), ASCII white space at its ends aside (trimmed off
-- both a log's txn_id and the table's). A log line whose txn_id has one is quarantined
-- (stg_logs), so such a txn_id is the table's, where the same payment logged plainly is a
-- second candidate, credited twice. A customer id with one is `customer_ids_hidden`'s. How
-- many, and the first with its customer in the table.
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
        regexp_extract(trim(candidates.txn_id, $ascii_space), $hidden) as hidden_character
    from candidates
    left join transactions on transactions.txn_id = candidates.txn_id
),

final as (
    select
        count(*) as candidates,
        min(txn_id) as txn_id,
        arg_min(customer_id, txn_id) as customer_id,
        printf('U+%04X', unicode(arg_min(hidden_character, txn_id))) as code_point
    from found
    where hidden_character <> ''
)

select * from final
