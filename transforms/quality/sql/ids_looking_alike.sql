-- Pairs of ids that look alike (one skeleton) and differ, one of them beyond ASCII ($ids, with
-- their $skeletons, by Python: `quality/lookalikes.py`) and one a candidate's: a log's `tхn9`
-- (a Cyrillic х) is no candidate of the table's `txn9`, so it is credited as log_only for a
-- payment that went through, or both are candidates and credited twice. An ASCII id's skeleton
-- is its look-alikes within ASCII (`1 I l |`, `0 O`) translated ($source to $target).
-- Key: (alike_id, other_id), sorted.
with

candidates as (
    select distinct txn_id from int_candidates_classified where txn_id is not null
),

table_ids as (
    select distinct txn_id from stg_transactions where txn_id is not null
),

ids as (
    select txn_id, bool_or(is_candidate) as is_candidate
    from (
        select txn_id, true as is_candidate from candidates
        union all
        select txn_id, false as is_candidate from table_ids
    )
    group by txn_id
),

beyond_ascii as (
    select unnest($ids) as txn_id, unnest($skeletons) as skeleton
),

skeletons as (
    select
        ids.txn_id,
        ids.is_candidate,
        coalesce(beyond_ascii.skeleton, translate(ids.txn_id, $source, $target)) as skeleton
    from ids
    left join beyond_ascii on beyond_ascii.txn_id = ids.txn_id
),

final as (
    select
        alike.txn_id as alike_id,
        other.txn_id as other_id,
        alike.is_candidate as alike_is_candidate,
        other.is_candidate as other_is_candidate
    from beyond_ascii
    inner join skeletons as alike on alike.txn_id = beyond_ascii.txn_id
    inner join skeletons as other
        on other.skeleton = alike.skeleton and other.txn_id <> alike.txn_id
    where alike.is_candidate or other.is_candidate
)

select * from final
order by alike_id, other_id
