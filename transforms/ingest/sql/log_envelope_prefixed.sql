-- One row per line of a file whose lines are a prefix and then the record (key: file_id, line),
-- read by `logs.extract` from the framed lines (`framed_lines`) before `stg_logs` checks each
-- record against the log contract: fluentd's out_file in its default format,
-- `<time>\t<tag>\t<record>` (`$prefixed` 'fluentd'), Fluent Bit's file output in its default
-- format, `<tag>: [<time>, <record>]` ('fluentbit'), and CloudWatch Logs' export to S3,
-- `<timestamp> <message>` ('cloudwatch_export'). `$prefixed_line` matches a whole line in
-- three groups: the prefix's two fields (the second empty for an export) and the record. `raw`
-- is the record with an LF; `envelope` the prefix's fields as JSON (`envelope.time`,
-- `envelope.tag`; `envelope.timestamp`). Quarantined (`problem`, with the line as `preview`): a
-- line that is not so.
with

framed as (
    select file_id, line, raw, problem, preview from framed_lines
),

split as (
    select
        *,
        coalesce(problem is null and regexp_matches(raw, $prefixed_line), false) as is_prefixed,
        regexp_extract(raw, $prefixed_line, ['first', 'second', 'record']) as parts
    from framed
),

final as (
    select
        file_id,
        line,
        case when is_prefixed then parts.record || chr(10) end as raw,
        case
            when problem is not null then problem
            when not is_prefixed and $prefixed = 'fluentd'
                then 'not a fluentd out_file line (envelope = "fluentd"): expected '
                    || '"<time>\t<tag>\t<record>"'
                    -- out_file's delimiter SPACE or COMMA: named, with how to put tabs back
                    || case when regexp_matches(raw, $spaced_line) then $spaced_hint else '' end
            when not is_prefixed and $prefixed = 'fluentbit'
                then 'not a Fluent Bit file output line (envelope = "fluentbit"): expected '
                    || '"<tag>: [<time>, <record>]"'
            when not is_prefixed
                then 'not a CloudWatch Logs export line (envelope = "cloudwatch_export"): '
                    || 'expected "<timestamp> <message>"'
        end as problem,
        case when not is_prefixed then coalesce(preview, left(raw, -1)) end as preview,
        case
            when not is_prefixed then null
            when $prefixed = 'fluentd' then json_object('time', parts.first, 'tag', parts.second)
            -- Fluent Bit's time is epoch seconds with 9 decimals (6 before 1.9), a JSON number:
            -- cut to the microsecond here, as `epoch_s` reads it, since JSON holds a number as a
            -- double, and 1736280000.999999999 is 1736280001.0 there, across a window's edge
            -- (one of 16 digits, below 2^33 s, comes back as written).
            when $prefixed = 'fluentbit' then json_object(
                'time', json(regexp_replace(parts.second, '(\.[0-9]{6})[0-9]+$', '\1')),
                'tag', parts.first
            )
            else json_object('timestamp', parts.first)
        end as envelope,
        1 as envelope_lines,
        cast(null as varchar) as position
    from split
)

select * from final
