-- The well-formed log lines whose event is a failure event written otherwise (one row): no
-- failure event as written, but one once a format character anywhere and blanks at its ends are
-- set aside (`$event_set_aside`) and its case folded (`stg_logs`' `event_written_otherwise`): how many,
-- and the first (file, line, the event as written and the failure event it resembles). Events
-- compare exactly, so such a line is irrelevant, and a failed payment the transaction table
-- lacks would go uncredited unseen.
with

written_otherwise as (
    select log_files.name as file, lines.line, lines.event_written_otherwise as event
    from stg_log_lines as lines
    inner join log_files using (file_id)
    where lines.event_written_otherwise is not null
),

first_line as (
    select * from written_otherwise order by file, line limit 1
),

final as (
    select
        (select count(*) from written_otherwise) as lines,
        first_line.file,
        first_line.line,
        first_line.event,
        list_filter(
            $failure_events,
            lambda e: lower(regexp_replace(e, $event_set_aside, '', 'g'))
                = lower(regexp_replace(first_line.event, $event_set_aside, '', 'g'))
        )[1] as resembles
    from (select 1) as one
    left join first_line on true
)

select * from final
