-- Candidate transactions whose txn_id or customer_id holds a control, format or space character
-- other than U+0020 (U+00A0, U+200B, U+FEFF, U+2028), ASCII white space at its ends aside. A log
-- line with one is quarantined (stg_logs), so such an id is the transaction table's, where the
-- same payment logged plainly is a second candidate, credited twice. How many, and the first.
with

candidates as (
    select txn_id, customer_id from int_candidates_classified
),

found as (
    select
        txn_id,
        customer_id,
        regexp_extract(
            array_to_string(list_transform(
                [txn_id, customer_id],
                lambda id: trim(id, chr(32) || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))
            ), ' '),
            '[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[^\P{Zs} ]'
        ) as hidden_character
    from candidates
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
