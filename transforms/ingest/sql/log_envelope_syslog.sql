-- One row per line of a syslog file (key: file_id, line), read by `logs.extract` from the framed
-- lines (`framed_lines`) before `stg_logs` checks each record against the log contract: the
-- record is the MSG after an RFC 5424 header (`$rfc5424_line`) or an RFC 3164 one
-- (`$rfc3164_line`, its time RFC 3339's in rsyslog's high-precision formats), both in five
-- groups: time, host, app (3164: the tag), pid and the record (RFC 5424's after its structured
-- data, or, Heroku's logplex, with none: a sixth group), or `heroku logs`' output
-- (`$heroku_line`: RFC 3164's header, an RFC 3339 time, no host) in four. `raw` is the record
-- with an LF; `envelope` the header's fields as JSON (`envelope.time`, `.host`, `.app`, `.pid`;
-- RFC 5424's NILVALUE `-` is null). RFC 3164's time has no year and no zone: it takes the year
-- that puts its month within six months of the window's ($window_year, $window_month: a
-- December line of a January window is the year before's; a February 29th that year lacks, the
-- leap year's before) and no offset, read as `ts` in `sources.logs_timezone`.
-- An offset without a colon (journalctl -o short-iso) gets one. Quarantined (`problem`, with
-- the line as `preview`): a line that is not syslog; a header without a message (its MSG none or
-- blanks: $no_message_pattern), whichever the header and however it ends ($no_message); an RFC
-- 3164 date that is no day of the year it is read in (`Feb 30`, `Apr 31`), named.
with

framed as (
    -- Each line read by both headers' patterns: every group is '' where the line does not match
    -- (a matched time never is), the struct NULL where the framing found a problem.
    select
        file_id,
        line,
        raw,
        problem,
        preview,
        -- RFC 5424's record after its structured data, or after none (Heroku's logplex)
        case when g is not null then struct_pack(
            time := g.time, host := g.host, app := g.app, pid := g.pid,
            record := g.record || g.bare
        ) end as rfc5424,
        regexp_extract(raw, $rfc3164_line, ['time', 'host', 'app', 'pid', 'record']) as rfc3164,
        -- `heroku logs`' output: RFC 3164's header with an RFC 3339 time, without the host
        regexp_extract(raw, $heroku_line, ['time', 'app', 'pid', 'record']) as heroku
    from framed_lines,
        lateral (
            select regexp_extract(
                raw, $rfc5424_line, ['time', 'host', 'app', 'pid', 'record', 'bare']
            ) as g
        )
),

headers as (
    select
        *,
        coalesce(rfc5424.time <> '', false) as is_rfc5424,
        -- `heroku logs`' line first: read as RFC 3164's, its `source[dyno]:` is the host, and
        -- a logfmt record's `ts=2025-01-07T20:` the tag
        coalesce(rfc3164.time <> '', false) and not coalesce(heroku.time <> '', false)
            as is_rfc3164,
        coalesce(heroku.time <> '', false) as is_heroku,
        -- RFC 3164's `Mmm dd hh:mm:ss[.ffffff]`: its month's number, its day, its clock
        list_position($months, left(rfc3164.time, 3)) as month_number,
        try_cast(trim(substr(rfc3164.time, 5, 2)) as integer) as day_number,
        substr(rfc3164.time, 8) as clock
    from framed
),

yeared as (
    -- RFC 3164's year: the one that puts its month within six months of the window's; a
    -- February 29th that year lacks is the leap year's before, out of the window however near
    -- (the window is no leap year's February, or that year would have one)
    select
        *,
        case
            when month_number = 2 and day_number = 29
                and try_cast(printf('%04d-02-29', near_year) as date) is null
                then near_year - near_year % 4
            else near_year
        end as year_number
    from (
        select
            *,
            $window_year + case
                when month_number - $window_month > 6 then -1
                when $window_month - month_number > 6 then 1
                else 0
            end as near_year
        from headers
    )
),

timed as (
    select
        *,
        is_rfc5424 or is_rfc3164 or is_heroku as is_syslog,
        case
            when is_rfc5424 then rfc5424
            when is_heroku then struct_pack(
                time := heroku.time, host := '', app := heroku.app, pid := heroku.pid,
                record := heroku.record
            )
            else rfc3164
        end as header,
        -- `Feb 30`: never read as another day (nor a time that is none, `envelope.time`)
        coalesce(
            is_rfc3164 and month_number is not null and try_cast(
                printf('%04d-%02d-%02d', year_number, month_number, day_number) as date
            ) is null,
            false
        ) as is_impossible_date,
        case
            when is_rfc5424 and rfc5424.time = '-' then null
            when is_rfc5424 then regexp_replace(rfc5424.time, '([+-][0-9]{2})([0-9]{2})$', '\1:\2')
            when is_heroku then heroku.time
            when not is_rfc3164 then null
            when month_number is null
                then regexp_replace(rfc3164.time, '([+-][0-9]{2})([0-9]{2})$', '\1:\2')
            else printf('%04d-%02d-%02dT%s', year_number, month_number, day_number, clock)
        end as header_time
    from yeared
),

checked as (
    select
        *,
        case
            when problem is not null then problem
            when not is_syslog
                then 'not a syslog line (envelope = "syslog"): expected RFC 5424 ("<PRI>1 <time> '
                    || '<host> <app> <procid> <msgid> <structured data> <message>") or RFC 3164 '
                    || '("[<PRI>]<Mmm dd hh:mm:ss> <host> <tag>[<pid>]: <message>", the time '
                    || 'RFC 3339''s in rsyslog''s high-precision format)'
            when regexp_matches(header.record, $no_message_pattern) then $no_message
            when is_impossible_date
                then 'impossible date in the syslog header: "' || left(rfc3164.time, 6)
                    || '" (no such day in ' || year_number || ')'
        end as line_problem
    from timed
),

final as (
    select
        file_id,
        line,
        case when is_syslog then header.record || chr(10) end as raw,
        line_problem as problem,
        case when line_problem is not null then coalesce(preview, left(raw, -1)) end as preview,
        case when is_syslog then json_object(
            'time', header_time,
            'host', nullif(nullif(header.host, '-'), ''),
            'app', nullif(header.app, '-'),
            'pid', nullif(nullif(header.pid, '-'), '')
        ) end as envelope,
        1 as envelope_lines,
        cast(null as varchar) as position
    from checked
)

select * from final
