-- The transaction table's txn_ids that are not ASCII (key: txn_id), sorted, each with its
-- control, format and space characters other than U+0020 removed (`visible`): the only ids that
-- can be a candidate's id written otherwise (`transaction_ids_as_candidates`). The ASCII filter
-- first keeps the rest of the table out of Python.
select distinct
    txn_id,
    regexp_replace(txn_id, $hidden, '', 'g') as visible
from stg_transactions
where txn_id is not null and not regexp_full_match(txn_id, '[\x00-\x7F]*')
order by txn_id
