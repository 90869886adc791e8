-- Failed transaction-table rows created inside the window whose error code is an outage code
-- once blanks and case are set aside, but not as written (one row): how many, and the first.
-- Codes compare exactly, so such a row is no table-only candidate, and its customer would be
-- left out unseen. `$outage_codes_folded`: the codes trimmed and in upper case.
with

near as (
    select txn_id, error_code
    from stg_transactions
    where status = 'failed'
        and created_at >= $window_start
        and created_at < $window_end
        and not list_contains($outage_codes, error_code)
        and list_contains($outage_codes_folded, upper(trim(error_code)))
)

select count(*), min(txn_id), arg_min(error_code, txn_id) from near
