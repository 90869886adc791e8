-- One row per record (key: file_id, line) whose text is held by a JSON string field of the
-- line or of the envelope's record (`sources.log_format.payload`, as Fluent Bit, Vector or
-- Logstash forward a line nobody parsed: `{"date": ..., "log": "{\"ts\": ...}"}`), read by
-- `logs.extract` before `stg_logs` checks the record against the log contract. `raw` is the
-- field's text with one LF (one LF, or CR LF, at its end dropped, as for a line); `envelope`
-- the object around it (`envelope.date`). Quarantined (`problem`, with the object as
-- `preview`): an object without a string at that path.
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
        end as is_holder
    from framed
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
                'not a JSON object with a string at ' || $payload_key
                    || ' (sources.log_format.payload)'
            )
        end as problem,
        case when not is_holder then coalesce(preview, left(raw, -1)) end as preview,
        case when is_holder then left(raw, -1) end as envelope,
        coalesce(envelope_lines, 1) as envelope_lines,
        position
    from parsed
)

select * from final
