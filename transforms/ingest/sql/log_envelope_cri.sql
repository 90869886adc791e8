-- One row per record of the container runtime (CRI) log lines of one partition (key: file_id,
-- line: the first line of the record), read by `logs.extract` from the framed lines
-- (`framed_lines`) before `stg_logs` checks each record against the log contract.
-- A CRI line is `<RFC 3339 time> <stdout|stderr> <P|F> <message>`: a message longer than the
-- runtime's buffer is split over lines tagged P (partial) ended by one tagged F, joined here in
-- line order per file and stream (the other stream's lines may come between). `raw` is the
-- record's text with an LF; `envelope` the first part's fields as JSON (`envelope.time`,
-- `envelope.stream`); `envelope_lines` how many lines it was read from. Only the lines of a
-- file's stream that holds a partial line are grouped; in the others each line is a record.
-- Quarantined (`problem`, with a readable `preview`): a line that is not a CRI line, a record
-- still partial when its file ends (but a JSON object, with `$json_records`: a container that
-- exited before its last line's line feed left it tagged P), and a joined record over 1 MiB.
with

framed as (
    select file_id, line, raw, problem, preview from framed_lines
),

extracted as (
    -- The pattern is anchored: a line that is not a CRI line gives empty parts (its tag '').
    select
        *,
        regexp_extract(raw, $cri_line, ['time', 'stream', 'tag', 'message']) as parts
    from framed
),

split as (
    select *, coalesce(problem is null and parts.tag <> '', false) as is_cri
    from extracted
),

partial_streams as (
    -- The files' streams that hold a partial line: only their records span lines.
    select distinct file_id, parts.stream as stream
    from split
    where is_cri and parts.tag = 'P'
),

cri_lines as (
    select
        split.file_id,
        split.line,
        split.parts.time as time,
        split.parts.stream as stream,
        split.parts.tag as tag,
        split.parts.message as message,
        partial_streams.file_id is not null as in_partial_stream
    from split
    left join partial_streams
        on split.file_id = partial_streams.file_id and split.parts.stream = partial_streams.stream
    where split.is_cri
),

numbered as (
    -- A record is the lines of one stream from one after an F line up to the next F line.
    select
        *,
        coalesce(sum(case when tag = 'F' then 1 else 0 end) over (
            partition by file_id, stream
            order by line
            rows between unbounded preceding and 1 preceding
        ), 0) as record
    from cri_lines
    where in_partial_stream
),

joined as (
    select
        file_id,
        stream,
        min(line) as line,
        max(line) as last_line,
        arg_min(time, line) as time,
        string_agg(message, '' order by line) as message,
        bool_or(tag = 'F') as is_finished,
        count(*) as envelope_lines
    from numbered
    group by file_id, stream, record
    union all
    -- A stream without a partial line: each line is a record of its own, finished.
    select file_id, stream, line, line, time, message, true, 1
    from cri_lines
    where not in_partial_stream
),

records as (
    select
        file_id,
        line,
        case
            when not is_finished and not is_whole then 'unfinished partial line (envelope = '
                || '"cri"): the file ends before the F line of this ' || stream || ' record, lines '
                || line || '-' || last_line
            when strlen(message) > 1048576 then 'record is ' || strlen(message)
                || ' bytes, longer than the 1 MiB limit (envelope = "cri": lines ' || line || '-'
                || last_line || ')'
        end as problem,
        message,
        json_object('time', time, 'stream', stream) as envelope,
        envelope_lines
    from (
        -- A JSON record that the file ends inside is whole when its text is a JSON object: the
        -- runtime tags a stream's last line P when the container exits before its line feed.
        select *, $json_records and coalesce(json_type(try(message::json)) = 'OBJECT', false)
            as is_whole
        from joined
    )
),

not_cri as (
    select
        file_id,
        line,
        cast(null as varchar) as raw,
        coalesce(
            problem,
            'not a CRI line (envelope = "cri"): expected "<time> <stdout|stderr> <P|F> <message>"'
        ) as problem,
        coalesce(preview, left(raw, -1)) as preview,
        cast(null as varchar) as envelope,
        1 as envelope_lines
    from split
    where not is_cri
),

final as (
    select
        file_id,
        line,
        case when problem is null then message || chr(10) end as raw,
        problem,
        case when problem is not null then left(message, 4096) end as preview,
        envelope,
        envelope_lines,
        cast(null as varchar) as position
    from records
    union all by name
    select * from not_cri
)

select * from final
order by file_id, line
