-- One row per record of the Docker json-file log lines of one partition (key: file_id, line:
-- the first line of the record), read by `logs.extract` from the framed lines (`framed_lines`)
-- before `stg_logs` checks each record against the log contract.
-- A line is `{"log": "<message>\n", "stream": "stdout", "time": "..."}`: the record is the text
-- of `log`. A message over 16 KiB is split over entries whose `log` does not end in a line feed,
-- joined here in line order per file and stream. `raw` is the record's text with one LF (a CR
-- before it dropped, as for a line); `envelope` the first entry as written (`envelope.time`);
-- `envelope_lines` how many lines it was read from.
-- Quarantined (`problem`, with a readable `preview`): a line that is not such an entry (or holds
-- "log" or "stream" twice), a record still partial when its file ends (but a JSON object, with
-- `$json_records`: a container that exited before its last line's line feed), and a joined
-- record over 1 MiB (the limit of a line).
with

framed as (
    select file_id, line, raw, problem, preview from framed_lines
),

parsed as (
    select
        *,
        -- A case, not `and`: DuckDB evaluates both sides, and json_type fails on invalid JSON.
        case
            when problem is not null or not json_valid(raw) then false
            -- coalesce: a NULL here would drop the line from both branches below
            else coalesce(
                json_type(raw) = 'OBJECT' and json_type(raw, '$.log') = 'VARCHAR'
                    and coalesce(json_type(raw, '$.stream'), 'VARCHAR') = 'VARCHAR',
                false
            )
        end as is_entry
    from framed
),

checked as (
    -- "log" or "stream" twice: a decoder keeps one of the two, so the record would be read as
    -- another (or joined to another stream's); never read either way
    select
        * replace (is_entry and twice is null as is_entry),
        case when twice is not null then 'the key "' || twice
            || '" appears twice in one object (envelope = "docker")' end as twice_problem
    from (
        select
            *,
            case
                when not is_entry then null
                when log_key_twice(raw, '$', 'log') then 'log'
                when log_key_twice(raw, '$', 'stream') then 'stream'
            end as twice
        from parsed
    )
),

entries as (
    select
        file_id,
        line,
        raw as entry,
        raw ->> '$.log' as message,
        raw ->> '$.stream' as stream
    from checked
    where is_entry
),

numbered as (
    -- A record is the entries of one stream from one after an entry ending in an LF up to the
    -- next such entry.
    select
        *,
        ends_with(message, chr(10)) as is_last,
        coalesce(sum(case when ends_with(message, chr(10)) then 1 else 0 end) over (
            partition by file_id, stream
            order by line
            rows between unbounded preceding and 1 preceding
        ), 0) as record
    from entries
),

joined as (
    select
        file_id,
        min(line) as line,
        max(line) as last_line,
        any_value(stream) as stream,
        left(arg_min(entry, line), -1) as envelope,
        string_agg(message, '' order by line) as message,
        bool_or(is_last) as is_finished,
        count(*) as envelope_lines
    from numbered
    group by file_id, stream, record
),

records as (
    select
        file_id,
        line,
        case
            when not is_finished and not is_whole then 'unfinished partial line (envelope = '
                || '"docker"): the file ends before the entry that ends this '
                || coalesce(stream, 'log') || ' record in a line feed, lines ' || line || '-'
                || last_line
            when strlen(message) > 1048576 then 'record is ' || strlen(message)
                || ' bytes, longer than the 1 MiB limit (envelope = "docker": lines ' || line
                || '-' || last_line || ')'
        end as problem,
        regexp_replace(message, '\r?\n$', '') as message,
        envelope,
        envelope_lines
    from (
        -- A JSON record that the file ends inside is whole when its text is a JSON object:
        -- Docker writes a stream's last line so when the container exits before its line feed.
        select *, $json_records and coalesce(json_type(try(message::json)) = 'OBJECT', false)
            as is_whole
        from joined
    )
),

not_entries as (
    select
        file_id,
        line,
        cast(null as varchar) as raw,
        coalesce(
            problem,
            twice_problem,
            'not a Docker json-file entry (envelope = "docker"): expected a JSON object with '
                || 'a string "log"'
        ) as problem,
        coalesce(preview, left(raw, -1)) as preview,
        cast(null as varchar) as envelope,
        1 as envelope_lines
    from checked
    where not is_entry
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
    select * from not_entries
)

select * from final
order by file_id, line
