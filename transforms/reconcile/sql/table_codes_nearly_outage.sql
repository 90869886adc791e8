-- Failed transaction-table rows created inside the window whose error code is an outage code
-- once case, blanks and hidden characters are set aside, but not as written (one row): how
-- many, and the first. Codes compare exactly, so such a row is no table-only candidate, and its
-- customer would be left out unseen. Set aside: a control, format or space character other than
-- an inner U+0020 (`$hidden`: a tab, CR or LF, U+200B, U+FEFF, U+00A0), then spaces at the ends.
-- `$outage_codes_folded`: the codes trimmed and in upper case.
with

near as (
    select txn_id, error_code
    from stg_transactions
    where status = 'failed'
        and created_at >= $window_start
        and created_at < $window_end
        and not list_contains($outage_codes, error_code)
        and list_contains(
            $outage_codes_folded,
            upper(trim(regexp_replace(error_code, $hidden, '', 'g')))
        )
)

select count(*), min(txn_id), arg_min(error_code, txn_id) from near
