-- The two identities a run must close, as one row: every log line in exactly one bucket, and
-- every candidate transaction in exactly one class.
with

buckets as (
    select
        count(*) as lines_bucketed,
        count(*) filter (where bucket in ('relevant', 'irrelevant')) as parsed,
        count(*) filter (where bucket = 'relevant') as relevant,
        count(*) filter (where bucket = 'irrelevant') as irrelevant,
        count(*) filter (where bucket = 'duplicate') as duplicates,
        count(*) filter (where bucket = 'quarantined') as quarantined
    from int_log_lines_bucketed
),

candidates as (
    select
        (select count(distinct txn_id) from stg_failures) as from_logs,
        (select count(*) from int_candidates_classified where class = 'table_only') as table_only,
        (select count(*) from evidence) as evidence_rows
),

final as (
    select * from buckets, candidates
)

select * from final
