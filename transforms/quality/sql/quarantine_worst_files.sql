-- The log files with quarantined lines, the largest share first (one row each), with the run's
-- totals on every row: what a quarantine rule's failure shows, so finance sees the numbers.
with

files as (
    select * from int_file_profile
),

run_totals as (
    select
        coalesce(sum(quarantined), 0) as run_quarantined,
        coalesce(sum(lines), 0) as run_lines
    from files
),

final as (
    select
        files.file,
        files.lines,
        files.quarantined,
        files.quarantined_share,
        run_totals.run_quarantined,
        run_totals.run_lines
    from run_totals
    left join files on files.quarantined > 0
    order by files.quarantined_share desc nulls last, files.file
    limit $shown
)

select * from final
