-- Candidate transactions whose ids differ only in their Unicode form (`café` composed in the
-- log, decomposed in the table; a Kelvin sign for a `K`; a fullwidth `１` for a `1`): ids
-- compare exactly, so one payment is two candidates (a log_only and a table_only) and is
-- credited twice. How many pairs, and the first of them. An id in ASCII is its own normal form:
-- only the others ($ids, `candidate_ids_beyond_ascii`) are normalised, to NFKC ($normals, by
-- Python: DuckDB has NFC only, which leaves a fullwidth digit as it is).
with

ids as (
    select distinct txn_id from int_candidates_classified where txn_id is not null
),

beyond_ascii as (
    select unnest($ids) as txn_id, unnest($normals) as normal
),

pairs as (
    select least(one.txn_id, other.txn_id) as one_id, greatest(one.txn_id, other.txn_id) as other_id
    from beyond_ascii as one
    inner join ids as other on other.txn_id = one.normal and other.txn_id <> one.txn_id
    union
    select one.txn_id, other.txn_id
    from beyond_ascii as one
    inner join beyond_ascii as other
        on one.normal = other.normal and one.txn_id < other.txn_id
)

select count(*) as pairs, min(one_id) as one_id, arg_min(other_id, one_id) as other_id
from pairs
