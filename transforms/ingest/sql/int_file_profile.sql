-- One row per log file read (key: file): how its lines split into buckets, whether it has
-- enough quarantined lines ($min_quarantined_lines) for its own share to count, and, over the
-- lines checked in full, the share whose event is not a payment event; of its payment lines
-- (checked in full, or duplicates), the share another file already holds when another file read
-- is as long as it, in lines and bytes (1.0: a copy, such as an editor's backup `x.gz~`, whose
-- event share is then 0.0: said once; 0.0 for any other file, as a rotated file whose only
-- failure lines are the few its predecessor's tail re-sent); its time range from the lines
-- checked in full and its first and last shape-checked line; how many of its quarantined lines
-- are failure lines (`int_quarantined_failure_lines`).
-- Files with no line still get a row; pruned files (not opened) get none.
create or replace table int_file_profile as
with

lines as (
    select * from int_log_lines_bucketed
),

per_file as (
    select
        file_id,
        count(*) filter (where bucket in ('relevant', 'irrelevant')) as parsed,
        count(*) filter (where bucket = 'relevant') as relevant,
        count(*) filter (where bucket = 'irrelevant') as irrelevant,
        count(*) filter (where bucket = 'duplicate') as duplicates,
        count(*) filter (where bucket = 'quarantined') as quarantined,
        count(*) filter (where bucket in ('relevant', 'irrelevant') and is_checked) as checked,
        count(*) filter (
            where bucket in ('relevant', 'irrelevant') and is_checked and not is_payment_event
        ) as unknown_events
    from lines
    group by file_id
),

failures_quarantined as (
    select file_id, count(*) as quarantined_failures
    from int_quarantined_failure_lines
    group by file_id
),

same_size as (
    select distinct this.file_id
    from log_files as this
    inner join log_files as other
        on other.file_id <> this.file_id
        and other.lines = this.lines
        and other.bytes = this.bytes
),

final as (
    select
        log_files.name as file,
        log_files.lines,
        coalesce(per_file.parsed, 0) as parsed,
        coalesce(per_file.relevant, 0) as relevant,
        coalesce(per_file.irrelevant, 0) as irrelevant,
        coalesce(per_file.duplicates, 0) as duplicates,
        coalesce(per_file.quarantined, 0) as quarantined,
        coalesce(per_file.parsed, 0) + coalesce(per_file.duplicates, 0)
            + coalesce(per_file.quarantined, 0) as accounted,
        coalesce(per_file.quarantined / log_files.lines, 0.0) as quarantined_share,
        coalesce(per_file.quarantined, 0) >= $min_quarantined_lines as quarantined_at_least_min,
        coalesce(failures_quarantined.quarantined_failures, 0) as quarantined_failures,
        log_files.min_ts_utc,
        log_files.max_ts_utc,
        if(
            same_size.file_id is null,
            0.0,
            coalesce(per_file.duplicates / nullif(per_file.duplicates + per_file.checked, 0), 0.0)
        ) as copied_share,
        coalesce(
            per_file.unknown_events / nullif(per_file.checked, 0),
            if(coalesce(per_file.duplicates, 0) > 0, 0.0, 1.0)
        ) as unknown_event_share
    from log_files
    left join per_file on per_file.file_id = log_files.file_id
    left join same_size on same_size.file_id = log_files.file_id
    left join failures_quarantined on failures_quarantined.file_id = log_files.file_id
)

select * from final
