-- Candidate transactions whose ids differ only in their Unicode form (`café` composed in the
-- log, decomposed in the table): ids compare exactly, so one payment is two candidates (a
-- log_only and a table_only) and is credited twice. How many pairs, and the first of them.
with

beyond_ascii as (
    select distinct txn_id from int_candidates_classified
    where txn_id is not null and not regexp_full_match(txn_id, '[\x00-\x7F]*')
),

pairs as (
    select one.txn_id as one_id, other.txn_id as other_id
    from beyond_ascii as one
    inner join beyond_ascii as other
        on nfc_normalize(one.txn_id) = nfc_normalize(other.txn_id)
        and one.txn_id < other.txn_id
)

select count(*) as pairs, min(one_id) as one_id, arg_min(other_id, one_id) as other_id
from pairs
