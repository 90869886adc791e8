-- Pairs of ids that look alike (one skeleton) and differ, one of them beyond ASCII and one a
-- candidate's: a log's `tхn9` (a Cyrillic х) is no candidate of the table's `txn9`, so it is
-- credited as log_only for a payment that went through, or both are candidates and credited
-- twice. The ids beyond ASCII, the candidates' and the transaction table's, come from Python
-- ($ids, with their $skeletons and whether each is a candidate's, $are_candidates:
-- `quality/lookalikes.py`). An ASCII id's skeleton is its look-alikes within ASCII (`1 I l |`,
-- `0 O`) translated ($source to $target), computed only for the ASCII ids whose first
-- $prefix_length characters are one of $prefixes (Python's: the beginnings of every ASCII id
-- with one of $skeletons): the rest of the table is one hash probe a row, never grouped.
-- Key: (alike_id, other_id), sorted.
with

beyond_ascii as (
    select
        unnest($ids) as txn_id,
        unnest($skeletons) as skeleton,
        unnest($are_candidates) as is_candidate
),

ids as (
    select txn_id, true as is_candidate from int_candidates_classified
    union all
    select txn_id, false as is_candidate from stg_transactions
),

beginning_alike as (
    select txn_id, is_candidate
    from ids
    where left(txn_id, $prefix_length) in (select unnest($prefixes::varchar[]))
),

ascii_alike as (
    select
        txn_id,
        bool_or(is_candidate) as is_candidate,
        translate(txn_id, $source, $target) as skeleton
    from beginning_alike
    where txn_id not in (select txn_id from beyond_ascii)
    group by txn_id
),

skeletons as (
    select txn_id, is_candidate, skeleton from beyond_ascii
    union all
    select txn_id, is_candidate, skeleton from ascii_alike
),

final as (
    select
        alike.txn_id as alike_id,
        other.txn_id as other_id,
        alike.is_candidate as alike_is_candidate,
        other.is_candidate as other_is_candidate
    from beyond_ascii as alike
    inner join skeletons as other
        on other.skeleton = alike.skeleton and other.txn_id <> alike.txn_id
    where alike.is_candidate or other.is_candidate
)

select * from final
order by alike_id, other_id
