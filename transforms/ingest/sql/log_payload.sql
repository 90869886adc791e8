-- One row per record (key: file_id, line) whose text is held by a JSON string field of the
-- line or of the envelope's record (`sources.log_format.payload`, as Fluent Bit, Vector or
-- Logstash forward a line nobody parsed: `{"date": ..., "log": "{\"ts\": ...}"}`), read by
-- `logs.extract` before `stg_logs` checks the record against the log contract. `raw` is the
-- field's text with one LF (one LF, CR LF or CR at its end dropped, as for a line); `envelope`
-- the object around it (`envelope.date`), and, under an envelope of its own fields
-- (`$fill_envelope`: a CRI line, a prefix, a syslog header, a CloudWatch event), those of
-- its fields the object lacks (`envelope.time`: Fluent Bit's and fluentd's time before
-- `{"log": ...}`, a record no parser read), the object's own key first. The field may also be a list of byte values (0-255)
-- that are UTF-8: journalctl -o json writes a message holding a control character (a CRLF
-- writer's CR, a colour escape) or a byte that is not UTF-8 so; its text is the record. For a
-- JSON record (`$payload_object`), the field may be the record as an object, parsed by the
-- collector (Vector's parse_json into .message): its JSON text is the record.
-- Quarantined (`problem`, with the object as `preview`): an object without a string or such
-- bytes at that path (null: journalctl's export of a field over 4096 bytes; bytes that are not
-- UTF-8; any other list: a field an entry gives twice), or with a key of that path twice, or a
-- part of a record the collector split (journald's too: a line over its LineMax=, cut into
-- records marked _LINE_BREAK line-max; Cloud Logging's: an entry over its size limit, cut into
-- entries marked with a LogSplit, `split`; Docker's and conmon's journald log drivers: a line
-- over 16 KiB, its parts but the last marked CONTAINER_PARTIAL_MESSAGE true); a marked record
-- whose text is a JSON object is whole (the collector joined it, keeping the first part's marks).
with

framed as (
    select
        file_id, line, raw, problem, preview, envelope as outer_envelope, envelope_lines, position
    from framed_lines
),

typed as (
    select
        *,
        -- A case, not `and`: DuckDB evaluates both sides, and json_type fails on invalid JSON.
        case
            when problem is null and json_valid(raw) and json_type(raw) = 'OBJECT'
                then json_type(raw, $payload)
        end as payload_type
    from framed
),

bytes as (
    -- journalctl -o json writes a field holding a control character or a byte that is not
    -- UTF-8 as the list of its byte values: each a JSON integer 0-255 (not 1e2, "13", null)
    select
        *,
        case when payload_type = 'ARRAY' then coalesce(
            list_bool_and(list_transform(
                (raw -> $payload)::json[],
                lambda b: coalesce(json_type(b) = 'UBIGINT' and try_cast(b as ubigint) <= 255, false)
            )),
            false
        ) else false end as is_bytes
    from typed
),

parsed as (
    select
        *,
        -- the bytes' text, null when they are not UTF-8
        case when is_bytes then try(decode(unhex(array_to_string(
            list_transform((raw -> $payload)::json[], lambda b: lpad(to_hex(b::ubigint), 2, '0')),
            ''
        )))) end as decoded,
        -- a JSON record the collector parsed into the field (Vector's parse_json into
        -- .message): the object's JSON text is the record
        coalesce(payload_type = 'OBJECT', false) and $payload_object as is_object,
        coalesce(payload_type = 'VARCHAR', false) or decoded is not null or is_object
            as is_holder,
        -- journalctl -o json writes a field over 4096 bytes as null (without --all)
        coalesce(payload_type = 'NULL', false) as is_null,
        coalesce(payload_type = 'ARRAY', false) and not is_bytes as is_list,
        is_bytes and decoded is null as not_utf8
    from bytes
),

checked as (
    -- a key of the payload's path twice: a decoder keeps one of the two texts, so the record
    -- would be read as another or not at all; never read either way. A part of a record the
    -- collector split (Docker's fluentd driver, Fluent Bit's cri parser, Vector, journald, Cloud
    -- Logging): its text is no record, and a failure event may be cut between the parts.
    select
        * replace (is_holder and not key_twice and not split_part as is_holder),
        case
            when key_twice then 'the key of sources.log_format.payload (' || $payload_key
                || ') appears twice in one object'
            when split_part then 'part of a record the collector split (its partial_message, '
                || 'logtag P, _partial, _LINE_BREAK line-max, split.uid or '
                || 'CONTAINER_PARTIAL_MESSAGE): have the collector join the parts (fluentd: the '
                || 'concat filter''s use_partial_metadata, keeping no partial key on a text '
                || 'record; Fluent Bit: '
                || 'multiline.parser docker, cri; Vector: auto_partial_merge; journald: a '
                || 'LineMax= in journald.conf above the longest record; Cloud Logging: records '
                || 'under its 256 KB limit; Docker''s journald driver: records under 16 KiB)'
        end as twice_problem
    from (
        select
            *,
            case when is_holder then list_bool_or(
                list_transform($payload_keys, lambda p: log_key_twice(raw, p.parent, p.key))
            ) else false end as key_twice,
            -- A marked record whose text is a JSON object (JSON records) is whole: one the
            -- collector joined keeping its first part's marks (fluent-plugin-concat's
            -- keep_partial_key, keep_partial_metadata), as a CRI or OTLP record tagged P.
            case when is_holder then coalesce(
                (
                    raw ->> 'partial_message' = 'true' or raw ->> 'logtag' = 'P'
                    or raw ->> '_partial' = 'true' or raw ->> '_LINE_BREAK' = 'line-max'
                    or raw -> 'split' ->> 'uid' is not null
                    or raw ->> 'CONTAINER_PARTIAL_MESSAGE' = 'true'
                ) and not (is_object or $payload_object and coalesce(
                    json_type(try(coalesce(decoded, raw ->> $payload)::json)) = 'OBJECT', false
                )),
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
            when is_holder
                then regexp_replace(
                    case when is_object then (raw -> $payload)::varchar
                        else coalesce(decoded, raw ->> $payload) end,
                    '\r?\n?$',
                    ''
                ) || chr(10)
        end as raw,
        case
            when not is_holder then coalesce(
                problem,
                twice_problem,
                case when is_null then $payload_key || ' is null (sources.log_format.payload): the '
                    || 'record is not in the line (journalctl -o json writes a field over 4096 '
                    || 'bytes so: export with --all)' end,
                case when not_utf8 then $payload_key || ' is a list of byte values that are '
                    || 'not UTF-8 (sources.log_format.payload): journalctl -o json writes a message '
                    || 'holding such bytes so, and the record is not text: have the service write '
                    || 'UTF-8' end,
                case when is_list then $payload_key || ' is a list, not a string or bytes '
                    || '(sources.log_format.payload): journalctl -o json writes a field an entry '
                    || 'gives twice as the list of its values, so the record is ambiguous' end,
                'not a JSON object with a string at ' || $payload_key
                    || ' (sources.log_format.payload)'
                    -- journalctl -o export's field of that name, `MESSAGE=...`: the setting
                    -- reads its -o json (`misread` stops on a file of them holding a failure)
                    || case when regexp_full_match($payload_key, '[A-Z0-9_]+')
                        and starts_with(raw::varchar, $payload_key || '=')
                        then ' (the line looks like journalctl -o export: export with journalctl '
                            || '-o json, which payload = "' || $payload_key || '" reads)'
                        else '' end
                    -- a CloudWatch Logs subscription's Lambda event, its objects gzip in base64
                    || case when json_valid(raw::varchar) then case
                        when json_extract_string(raw::varchar, '$.awslogs.data') is not null
                        then $lambda_hint else '' end else '' end
            )
        end as problem,
        case when not is_holder then coalesce(preview, left(raw, -1)) end as preview,
        case when is_holder then case
            when not $fill_envelope or outer_envelope is null or filled = '' then left(raw, -1)
            -- the object's text kept as written (a key of it twice is still seen), the
            -- envelope's fields it lacks added after its own
            else regexp_replace(left(raw, -1), '\}\s*$', '') || ',' || filled || '}'
        end end as envelope,
        coalesce(envelope_lines, 1) as envelope_lines,
        position
    from (
        select
            *,
            case when is_holder and $fill_envelope and outer_envelope is not null then
                array_to_string(list_transform(
                    list_filter(
                        map_entries(json_transform(outer_envelope, '"MAP(VARCHAR, JSON)"')),
                        lambda e: not list_contains(json_keys(left(raw, -1)), e.key)
                    ),
                    lambda e: to_json(e.key)::varchar || ':' || e.value::varchar
                ), ',')
            end as filled
        from checked
    )
)

select * from final
