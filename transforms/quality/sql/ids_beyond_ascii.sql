-- The ids beyond ASCII (key: txn_id), the candidates' and the transaction table's, sorted: the
-- only ids that can look like another id in another script (`ids_looking_alike`). The ASCII
-- filter keeps the rest of the table out of Python.
select txn_id from int_candidates_classified
where txn_id is not null and not regexp_full_match(txn_id, '[\x00-\x7F]*')
union
select txn_id from stg_transactions
where txn_id is not null and not regexp_full_match(txn_id, '[\x00-\x7F]*')
order by txn_id
