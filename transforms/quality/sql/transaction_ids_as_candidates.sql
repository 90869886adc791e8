-- Transaction table rows whose txn_id is not a candidate's but equals one once its hidden
-- characters are removed and it is normalised to NFKC ($table_ids, $table_normals, by Python):
-- a row `t9` + U+200B that succeeded on a retry leaves the log's failed `t9` a log_only
-- candidate, credited for a payment that went through. Candidates' ids compare in their own
-- NFKC form ($ids, $normals: those beyond ASCII). How many, and the first, with the first
-- hidden character of its id ('' when it differs in its Unicode form only).
with

candidates as (
    select distinct txn_id from int_candidates_classified where txn_id is not null
),

candidate_normals as (
    select unnest($ids) as txn_id, unnest($normals) as normal
),

normalised as (
    select candidates.txn_id, coalesce(candidate_normals.normal, candidates.txn_id) as normal
    from candidates
    left join candidate_normals on candidate_normals.txn_id = candidates.txn_id
),

table_ids as (
    select unnest($table_ids) as txn_id, unnest($table_normals) as normal
),

pairs as (
    select table_ids.txn_id as table_id, normalised.txn_id as candidate_id
    from table_ids
    inner join normalised
        on normalised.normal = table_ids.normal and normalised.txn_id <> table_ids.txn_id
)

select
    count(*) as pairs,
    min(table_id) as table_id,
    arg_min(candidate_id, table_id) as candidate_id,
    coalesce(printf('U+%04X', unicode(nullif(
        regexp_extract(min(table_id), $hidden), ''
    ))), '') as code_point
from pairs
