-- One row per record (key: file_id, line) whose text is held by a JSON string field of the
-- line or of the envelope's record (`sources.log_format.payload`, as Fluent Bit, Vector or
-- Logstash forward a line nobody parsed: `{"date": ..., "log": "{\"ts\": ...}"}`), read by
-- `logs.extract` before `stg_logs` checks the record against the log contract. `raw` is the
-- field's text with one LF (one LF, or CR LF, at its end dropped, as for a line); `envelope`
-- the object around it (`envelope.date`). Quarantined (`problem`, with the object as
-- `preview`): an object without a string at that path (null: journalctl's export of a field over
-- 4096 bytes; a list: of one holding a control or non-UTF-8 byte, or given twice), or with a key of that path twice, or a part of a record the collector split
-- (journald's too: a line over its LineMax=, cut into records marked _LINE_BREAK line-max).
with

framed as (
    select file_id, line, raw, problem, preview, envelope_lines, position from framed_lines
),

parsed as (
    select
        *,
        -- A case, not `and`: DuckDB evaluates both sides, and json_type fails on invalid JSON.
        case
            when problem is not null or not json_valid(raw) then false
            else coalesce(json_type(raw) = 'OBJECT' and json_type(raw, $payload) = 'VARCHAR', false)
        end as is_holder,
        -- journalctl -o json writes a field over 4096 bytes as null (without --all), and one
        -- holding a control or non-UTF-8 byte as the list of its byte values
        case
            when problem is not null or not json_valid(raw) then false
            else coalesce(json_type(raw) = 'OBJECT' and json_type(raw, $payload) = 'NULL', false)
        end as is_null,
        case
            when problem is not null or not json_valid(raw) then false
            else coalesce(json_type(raw) = 'OBJECT' and json_type(raw, $payload) = 'ARRAY', false)
        end as is_list
    from framed
),

checked as (
    -- a key of the payload's path twice: a decoder keeps one of the two texts, so the record
    -- would be read as another or not at all; never read either way. A part of a record the
    -- collector split (Docker's fluentd driver, Fluent Bit's cri parser, Vector): its text is
    -- no record, and a failure event may be cut between the parts.
    select
        * replace (is_holder and not key_twice and not split_part as is_holder),
        case
            when key_twice then 'the key of sources.log_format.payload (' || $payload_key
                || ') appears twice in one object'
            when split_part then 'part of a record the collector split (its partial_message, '
                || 'logtag P, _partial or _LINE_BREAK line-max): have the collector join the '
                || 'parts (Fluent Bit: multiline.parser docker, cri; Vector: auto_partial_merge; '
                || 'journald: a LineMax= in journald.conf above the longest record)'
        end as twice_problem
    from (
        select
            *,
            case when is_holder then list_bool_or(
                list_transform($payload_keys, lambda p: log_key_twice(raw, p.parent, p.key))
            ) else false end as key_twice,
            case when is_holder then coalesce(
                raw ->> 'partial_message' = 'true' or raw ->> 'logtag' = 'P'
                    or raw ->> '_partial' = 'true' or raw ->> '_LINE_BREAK' = 'line-max',
                false
            ) else false end as split_part
        from parsed
    )
),

final as (
    select
        file_id,
        line,
        case
            when is_holder then regexp_replace(raw ->> $payload, '\r?\n$', '') || chr(10)
        end as raw,
        case
            when not is_holder then coalesce(
                problem,
                twice_problem,
                case when is_null then $payload_key || ' is null (sources.log_format.payload): the '
                    || 'record is not in the line (journalctl -o json writes a field over 4096 '
                    || 'bytes so: export with --all)' end,
                case when is_list then $payload_key || ' is a list, not a string '
                    || '(sources.log_format.payload): journalctl -o json writes a message holding '
                    || 'a control character or a byte that is not UTF-8 as its byte values, and a '
                    || 'field an entry gives twice as the list of its values' end,
                'not a JSON object with a string at ' || $payload_key
                    || ' (sources.log_format.payload)'
            )
        end as problem,
        case when not is_holder then coalesce(preview, left(raw, -1)) end as preview,
        case when is_holder then left(raw, -1) end as envelope,
        coalesce(envelope_lines, 1) as envelope_lines,
        position
    from checked
)

select * from final
