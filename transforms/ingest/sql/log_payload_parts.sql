-- One row per record (key: file_id, line: the first line of the record) of the payloads of one
-- partition (`log_payload`), Fluent Bit's records of CRI lines joined: read by `logs.extract`
-- for JSON records (`kind = "jsonl"`) before `stg_logs` checks each record, from the first
-- line whose envelope may hold a `_p` key on (the lines before it pass it by).
-- Fluent Bit's CRI parsers write each kubelet line as `{"time", "stream", "_p", "log"}`, `_p`
-- its tag: P, a part the runtime cut at 16 KiB, ended by one F. Its tail input's
-- `multiline.parser cri` joins the parts but keeps the first part's keys, `_p` P, around the
-- whole record; without it (a regex parser naming the tag `_p`), or when it flushes a stream's
-- parts early (a line of the other stream, its flush timeout), each part is a record of its
-- own. So a record is a piece when it is tagged P or F and its text is not a JSON object: a
-- piece tagged P is joined, in line order per file, source and stream, with that stream's next
-- pieces, up to and including the first tagged F. The source is the container the record was
-- read from, as its keys name it: one output file may hold many containers' records (out_file
-- with a fixed File, forward to an aggregator), their parts between each other's. `envelope`
-- and `position` are the first piece's, `envelope_lines` the lines joined.
-- Quarantined (`problem`): a joined record over 1 MiB (the limit of a line), and every piece
-- that does not join into a JSON object (fail closed: its reason is a part's, and a part
-- holding a failure event stops the run, `lost.unfinished`): still partial when its stream
-- ends in the file (its rest is in the next file, or not written yet), followed by a whole
-- record, an F without its P parts, or parts that joined are not a JSON object.
with

framed as materialized (
    -- read once: the lines come as a stream
    select file_id, line, raw, problem, preview, envelope, envelope_lines, position
    from framed_lines
),

fields as (
    -- the envelope's keys read in one parse of it (each `->>` parses it again)
    select
        *,
        json_extract_string(envelope, [
            '$._p',
            '$.stream',
            '$.kubernetes.docker_id',
            '$.kubernetes.namespace_name',
            '$.kubernetes.pod_name',
            '$.kubernetes.pod_id',
            '$.kubernetes.container_name',
            '$.path',
            '$.file',
            '$.filename',
            '$.tag'
        ]) as keys
    from framed
    where raw is not null and envelope is not null
),

records as (
    -- Only the records with a `_p` tag are looked at; the others pass as they are.
    select
        file_id,
        line,
        raw,
        envelope,
        envelope_lines,
        position,
        keys[1] as tag,
        keys[2] as stream,
        -- the container: Fluent Bit's kubernetes filter's keys, else its tail's Path_Key (or a
        -- forwarded record's tag); the kind of key first, so that two kinds never meet
        coalesce(
            'docker_id ' || keys[3],
            'pod ' || nullif(concat_ws('/', keys[4], keys[5], keys[6], keys[7]), ''),
            'path ' || coalesce(keys[8], keys[9], keys[10]),
            'tag ' || keys[11]
        ) as source,
        -- A case, not `and`: DuckDB evaluates both sides, and json_type fails on invalid JSON.
        case
            when not json_valid(raw) then true
            else json_type(raw) <> 'OBJECT'
        end as is_cut
    from fields
    where keys[1] is not null
),

tagged as (
    select
        *,
        coalesce(tag in ('P', 'F') and is_cut, false) as is_piece,
        -- a piece starts a new record after a whole one, after an F, or at its stream's start
        coalesce(lag(not (tag in ('P', 'F') and is_cut) or tag = 'F') over (
            partition by file_id, source, stream order by line
        ), true) as after_break,
        lead(line) over (partition by file_id, source, stream order by line) is null as is_last
    from records
),

numbered as (
    select
        *,
        sum(case when not is_piece or after_break then 1 else 0 end) over (
            partition by file_id, source, stream order by line rows unbounded preceding
        ) as record
    from tagged
),

pieces as (
    -- the pieces of one record: from a P (or a lone F) up to and including the first F
    select
        file_id,
        source,
        stream,
        record,
        min(line) as line,
        max(line) as last_line,
        arg_min(tag, line) as first_tag,
        bool_or(tag = 'F') as is_finished,
        bool_or(is_last) as is_at_end,
        string_agg(left(raw, -1), '' order by line) || chr(10) as raw,
        arg_min(envelope, line) as envelope,
        arg_min(position, line) as position,
        sum(envelope_lines)::bigint as envelope_lines
    from numbered
    where is_piece
    group by file_id, source, stream, record
),

joined as (
    select
        file_id,
        line,
        raw,
        case
            when strlen(raw) > 1048577 then 'record is ' || (strlen(raw) - 1)
                || ' bytes, longer than the 1 MiB limit (Fluent Bit''s _p parts, '
                || 'sources.log_format.payload: lines ' || line || '-' || last_line || ')'
            when json_type(try(raw::json)) = 'OBJECT' then null
            when not is_finished and is_at_end then 'unfinished partial line (Fluent Bit''s _p '
                || 'parts, sources.log_format.payload): the file ends before the _p F record of '
                || 'this ' || stream || ' record, lines ' || line || '-' || last_line
            else 'part of a record the collector split (Fluent Bit''s _p '
                || case
                    when first_tag = 'F' then 'F, line ' || line
                        || ', without the _p P parts before it'
                    when is_finished then 'P ... F, lines ' || line || '-' || last_line
                        || ', joined not a JSON object'
                    else 'P, its parts not joined into one, lines ' || line || '-' || last_line
                end
                || '): have the collector join the parts (Fluent Bit: multiline.parser docker, '
                || 'cri, and a flush_timeout above the time between them)'
        end as problem,
        envelope,
        envelope_lines,
        position
    from pieces
),

final as (
    select
        file_id,
        line,
        case when problem is null then raw end as raw,
        problem,
        case when problem is not null then left(raw, 4096) end as preview,
        envelope,
        envelope_lines,
        position
    from joined
    union all by name
    select framed.*
    from framed
    anti join (select file_id, line from numbered where is_piece) as consumed
        on framed.file_id = consumed.file_id and framed.line = consumed.line
)

select * from final
order by file_id, line
