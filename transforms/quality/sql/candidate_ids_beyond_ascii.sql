-- The candidate transactions' ids that are not ASCII (key: txn_id), sorted: the only ids whose
-- Unicode normal form can differ from themselves (`candidate_ids_in_two_forms`).
select distinct txn_id
from int_candidates_classified
where txn_id is not null and not regexp_full_match(txn_id, '[\x00-\x7F]*')
order by txn_id
