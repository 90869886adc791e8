-- One row per record of the log files of one partition (key: file_id, line), checked against
-- the log contract: the map's model, run by `logs.extract` over the stream of framed lines
-- (`framed_lines`: each line's text with its LF, NULL when the framing already found a
-- `problem`, with a readable `preview`). A record is a physical line, or, with an envelope or a
-- payload, the record unwrapped from it (`log_envelope_*`, `log_payload`: keyed by its first
-- line, with the envelope's fields as JSON in `envelope`; OTLP and CloudWatch records are
-- numbered in their file instead, `logs.unnesting`, with their `position` in the envelope).
-- `quarantine_reason` is set when the line breaks the contract. Only failure-event lines keep
-- their fields; `line_hash` (every well-formed line) and `line_md5` (failure-event lines) let the
-- reduce find byte-identical lines (of one time) across files. Times with an offset are
-- instants (RFC 3339: hours 00-23, offsets to 23:59, a leap second's :60 its minute's last
-- microsecond, and so a strptime pattern's `%S` of 60); without one they are read in
-- $logs_timezone, a DST fold as its first occurrence (`log_local_instant`).
with

framed as (
    -- A record a collector read from a file's start may begin with the file's byte-order mark
    -- (Fluent Bit's tail, Vector, a container's first line keep it): dropped, as a plain
    -- file's is, never a reason to quarantine the record. A lone surrogate escape (`\ud800`,
    -- an emoji JavaScript cut in two) is read as U+FFFD, as a careful decoder does, not a reason
    -- to lose the whole line as not valid JSON (`log_lone_surrogates`): `raw` is the record as
    -- read, `written` as written (the quarantine's text, and what duplicates compare).
    select
        *,
        case when $kind in ('jsonl', 'logfmt') then log_lone_surrogates(written) else written end
            as raw
    from (
        select
            file_id,
            line,
            case
                when envelope is not null and starts_with(raw, chr(65279)) then substr(raw, 2)
                else raw
            end as written,
            problem,
            preview,
            envelope,
            position
        from framed_lines
    )
),

parsed as (
    -- The seven fields (`LOG_FIELDS`) as JSON values, NULL when absent; `fields` itself is NULL
    -- when the line does not parse. Text formats give text (typed in `record_fields`).
    select
        *,
        case $kind
            when 'jsonl' then case when json_valid(raw) then json_extract(raw, $paths)::varchar[] end
            when 'logfmt' then
                case when len(logfmt_keys) > 0 then list_transform(
                    $keys,
                    lambda k: logfmt_values[list_position(logfmt_keys, k)]
                ) end
            else
                case when regexp_matches(left(raw, -1), $pattern) then json_extract_string(
                    to_json(regexp_extract(left(raw, -1), $pattern, $group_names)), $paths
                ) end
        end as texts_or_json
    from (
        select
            *,
            regexp_extract_all(
                case when $kind = 'logfmt' then left(raw, -1) end,
                '(?:^|\s)([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)',
                1
            ) as logfmt_keys,
            list_transform(
                regexp_extract_all(
                    case when $kind = 'logfmt' then left(raw, -1) end,
                    '(?:^|\s)([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)',
                    2
                ),
                -- A quoted value is a JSON string (unquoted here); a bare one is taken as it is.
                -- A raw control character (a tab, a CR, a colour's ESC) is read as written:
                -- escaped first, as JSON refuses it unescaped.
                lambda v: json_extract_string(
                    case
                        when not regexp_full_match(v, '"([^"\\]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
                            then to_json(v)::varchar
                        when regexp_matches(v, '[\x00-\x1f]') then array_to_string(
                            list_transform(
                                string_split(v, ''),
                                lambda c: case when c < ' ' then printf('\u%04x', ord(c)) else c end
                            ),
                            ''
                        )
                        else v
                    end,
                    '$'
                )
            ) as logfmt_values
        from framed
    )
),

chosen as (
    -- A JSON field's path is read each way its dots allow (`$path_of`: `event.action` as the key
    -- written whole, as ECS loggers write it, then nested): `chosen` is, for each field, the
    -- index in `$paths` of the first way the record holds, and `ways_found` how many it holds
    -- (more than one: which is meant is unknown, as a key written twice).
    select
        *,
        case when $kind = 'jsonl' and texts_or_json is not null then list_transform(
            $path_of, lambda ways: list_filter(ways, lambda j: texts_or_json[j] is not null)[1]
        ) end as chosen,
        case when $kind = 'jsonl' and texts_or_json is not null then list_max(list_transform(
            $path_of, lambda ways: len(list_filter(ways, lambda j: texts_or_json[j] is not null))
        )) end as ways_found
    from parsed
),

record_fields as (
    select
        *,
        case
            when $kind = 'jsonl' then list_transform(chosen, lambda j: texts_or_json[j])
            -- Text formats: digits are a number in the fields that may be one (`ts` as epoch
            -- time, `amount_minor`), text in the others (`txn_id=12345`, `error_code=500`).
            -- Leading zeros are read as a table's are (`0500` is 500): dropped, as JSON has none.
            else list_transform(
                texts_or_json,
                lambda t, i: case
                    when t is null or t = '' then null
                    when $numeric_fields[i] and regexp_full_match(t, '-?[0-9]+(\.[0-9]+)?')
                        then regexp_replace(t, '^(-?)0+([0-9])', '\1\2')
                    else to_json(t)::varchar
                end
            )
        end as record_fields
    from chosen
),

fields as (
    -- A field whose path starts with `envelope.` is read from the envelope's fields (JSON).
    select
        *,
        case
            when envelope is null or record_fields is null then record_fields
            else list_transform(
                range(1, 8),
                lambda i: case
                    when $from_envelope[i] then json_extract(envelope, $envelope_paths[i])::varchar
                    else record_fields[i]
                end
            )
        end as fields,
        -- A field read from the envelope that has no such key (a typo in a payload's path,
        -- `envelope.tiem`; an envelope's own fields are checked as the incident file is read):
        -- its reason names the path and the keys the envelope has. Only under a payload
        -- (`$envelope_may_lack`): not worked out for every line of every other envelope.
        case when $envelope_may_lack and envelope is not null and record_fields is not null then
            list_transform(
                range(1, 8),
                lambda i: case
                    when $from_envelope[i] and json_extract(envelope, $envelope_paths[i]) is null
                        then ' (sources.log_format.' || $field_names[i] || ' is "' || $keys[i]
                            || '": the envelope has no ' || substr($keys[i], 10) || '; its keys: '
                            || array_to_string(json_keys(envelope), ', ') || ')'
                    else ''
                end
            )
        end as envelope_lacks,
        -- An OTLP record without a time of its own is read at its body's ts, the service's
        -- (`otlp.Fields.json` says so): RFC 3339, the contract's, whatever timeUnixNano's format.
        case
            when $otlp and envelope ->> '$.ts_format' = 'rfc3339' then 'rfc3339'
            else $ts_format
        end as ts_format
    from record_fields
),

typed as (
    -- ts and event are typed on every line, the other fields on payment events only.
    select
        *,
        log_json_kind(fields[1]) as ts_kind,
        case
            when ts_format not in ('epoch_s', 'epoch_ms')
                or coalesce(log_json_kind(fields[1]) <> 'DOUBLE', true) then fields[1] ->> '$'
            -- Epoch time's number as written: JSON holds it as a double, which may round one of
            -- over 15 digits (1736280000.999999999 is 1736280001.0, across a window's edge).
            -- A text format's digits are the text itself; a JSON number is found in its text
            -- (the record's, or the envelope's), by its key (`$ts_key`, the path's last).
            when $kind <> 'jsonl' and not $from_envelope[1] then fields[1]
            else coalesce(
                log_number_text(
                    case when $from_envelope[1] then envelope else raw end,
                    case when $from_envelope[1] then $ts_key else $path_keys[chosen[1]] end,
                    fields[1]
                ),
                fields[1] ->> '$'
            )
        end as ts_text,
        -- RFC 3339's leap second (`23:59:60`, which DuckDB's cast refuses) read as the last
        -- microsecond of its minute: after every other time of it, before the next minute.
        case when substr(fields[1] ->> '$', 18, 2) = '60' then regexp_replace(
            fields[1] ->> '$', ':60(\.\d+)?', ':59.999999'
        ) else fields[1] ->> '$' end as ts_leap_read,
        log_json_kind(fields[2]) as event_kind,
        fields[2] ->> '$' as event
    from fields
),

timed as (
    select
        *,
        case ts_format
            when 'rfc3339' then case
                when ts_kind <> 'VARCHAR' or not regexp_full_match(
                    ts_text,
                    '\d{4}-\d{2}-\d{2}[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?'
                        || '([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?'
                ) then null
                -- RFC 3339 allows a lowercase `t` and `z`; DuckDB's cast reads only uppercase.
                when regexp_matches(ts_text, '([Zz]|[+-]\d{2}:\d{2})$')
                    then try_cast(upper(ts_leap_read) as timestamptz)
                else log_local_instant(try_cast(upper(ts_leap_read) as timestamp), $logs_timezone)
            end
            -- Sub-microsecond digits truncated, as in RFC 3339 (a cast would round them up into
            -- the next microsecond, across a window's edge); an exponent's digits moved first.
            when 'epoch_s' then timezone('UTC', make_timestamp(try_cast(
                try_cast(
                    regexp_replace(log_plain_number(ts_text), '(\.[0-9]{6})[0-9]+$', '\1')
                        as decimal(38, 6)
                ) * 1000000 as bigint
            )))
            when 'epoch_ms' then timezone('UTC', make_timestamp(try_cast(
                try_cast(
                    regexp_replace(log_plain_number(ts_text), '(\.[0-9]{3})[0-9]+$', '\1')
                        as decimal(38, 6)
                ) * 1000 as bigint
            )))
            -- Whole microseconds or nanoseconds, as a JSON integer or a string of digits: read as
            -- a 128-bit integer, never a float, so no digit is rounded; nanoseconds truncated.
            when 'epoch_us' then case when regexp_full_match(ts_text, '[0-9]{1,30}') then
                timezone('UTC', make_timestamp(try_cast(try_cast(ts_text as hugeint) as bigint)))
            end
            when 'epoch_ns' then case when regexp_full_match(ts_text, '[0-9]{1,30}') then
                timezone('UTC', make_timestamp(try_cast(try_cast(ts_text as hugeint) // 1000 as bigint)))
            end
            -- A strptime pattern's leap second (second 60, which strptime refuses) read as
            -- RFC 3339's, the last microsecond of its minute: `$ts_leap_pattern` is the pattern
            -- with its `%S` as a literal 60 (NULL without one), its time at second 0 of that
            -- minute and the fraction (cut; an offset is whole seconds) then moved to 59.999999.
            -- A pattern's %n (nanoseconds) gives a TIMESTAMP_NS, which a cast rounds (23:14:59
            -- and .999999999 into 23:15:00, past a window's edge): its microseconds are cut
            -- instead, as RFC 3339's sub-microsecond digits are.
            -- (A TIMESTAMPTZ_NS is cut so; a TIMESTAMP_NS is made one first, the session's
            -- zone UTC, a time beyond its years, 1677-2262, being no %n's.)
            else case
                when $ts_naive then log_local_instant(coalesce(
                    date_trunc('microseconds', try_cast(
                        try_strptime(ts_text, $ts_pattern) as timestamptz_ns
                    ))::timestamp,
                    try_strptime(ts_text, $ts_pattern)::timestamp,
                    date_trunc('second', coalesce(
                        date_trunc('microseconds', try_cast(
                            try_strptime(ts_text, $ts_leap_pattern) as timestamptz_ns
                        ))::timestamp,
                        try_strptime(ts_text, $ts_leap_pattern)::timestamp
                    )) + to_microseconds(59999999)
                ), $logs_timezone)
                else coalesce(
                    date_trunc('microseconds', try_strptime(ts_text, $ts_pattern))::timestamptz,
                    date_trunc(
                        'second', date_trunc('microseconds', try_strptime(ts_text, $ts_leap_pattern))
                    )::timestamptz + to_microseconds(59999999)
                )
            end
        end as ts_utc,
        list_contains($failure_events, event) or starts_with(event, 'payment.') as is_payment_event
    from typed
),

payment as (
    -- The other fields are read and checked on payment events only.
    select
        *,
        case when is_payment_event then log_json_kind(fields[3]) end as txn_id_kind,
        case when is_payment_event then trim(fields[3] ->> '$', $ascii_space) end as txn_id,
        case when is_payment_event then log_json_kind(fields[4]) end as customer_id_kind,
        case when is_payment_event then fields[4] ->> '$' end as customer_id,
        -- the first control, format or space character other than U+0020 in txn_id (`$hidden`,
        -- ASCII white space at its ends aside); '' when none. Not customer_id: one with such a
        -- character matches no customer (unknown_customer, whose detail names it), and
        -- quarantining its line would only lose the failure.
        case when is_payment_event then regexp_extract(
            trim(fields[3] ->> '$', $ascii_space),
            $hidden
        ) end as hidden_character,
        -- An amount written as a whole number with a zero fraction (`1000.0`, as a serializer
        -- of doubles writes one) is that integer, as a table's `1250.00` is 1250. Read from the
        -- number as written (the double DuckDB's JSON makes of it rounds past 15 digits, and
        -- `1000.000000000000001` to `1000.0`), by its key (`$amount_key`) as `ts` is; another
        -- fraction or an exponent (`1e3`) stays no integer.
        case when is_payment_event then regexp_extract(
            case
                when coalesce(log_json_kind(fields[5]) <> 'DOUBLE', true) then null
                when $kind <> 'jsonl' and not $from_envelope[5] then fields[5]
                else log_number_text(
                    case when $from_envelope[5] then envelope else raw end,
                    case when $from_envelope[5] then $amount_key else $path_keys[chosen[5]] end,
                    fields[5]
                )
            end,
            '^(-?[0-9]+)\.0+$',
            1
        ) end as amount_whole,
        case when is_payment_event then
            case when amount_whole <> '' then 'INTEGER' else log_json_kind(fields[5]) end
        end as amount_kind,
        case when is_payment_event then
            case when amount_whole <> '' then amount_whole else fields[5] ->> '$' end
        end as amount_text,
        case when is_payment_event then log_json_kind(fields[6]) end as currency_kind,
        case when is_payment_event then fields[6] ->> '$' end as currency,
        case when is_payment_event then log_json_kind(fields[7]) end as error_code_kind,
        case when is_payment_event then fields[7] ->> '$' end as error_code,
        -- the contract's keys as the line has them, each as often as it appears
        list_filter(
            case $kind
                when 'jsonl' then case when fields is not null then json_keys(raw) end
                when 'logfmt' then logfmt_keys
            end,
            lambda k: list_contains($contract_keys, k)
        ) as contract_keys_seen,
        -- a key of a dotted path twice below the record's own keys (`payment.id`: `id` twice
        -- in `payment`), or twice on an `envelope.` path (nothing to check without such paths)
        case when $kind = 'jsonl' and fields is not null and len($nested_keys) > 0 then
            list_bool_or(
                list_transform($nested_keys, lambda p: log_key_twice(raw, p.parent, p.key))
            )
        end as nested_key_twice,
        case when envelope is not null and len($envelope_keys) > 0 then
            list_bool_or(
                list_transform($envelope_keys, lambda p: log_key_twice(envelope, p.parent, p.key))
            )
        end as envelope_key_twice
    from timed
),

checked as (
    select
        *,
        case
            when problem is not null then problem
            when raw = chr(10) then 'blank line'
            when fields is null then case $kind
                -- a collector's line with a prefix before the record (`hints.PREFIX_HINTS`),
                -- or a payload's record the collector did not parse (`hints.PAYLOAD_HINTS`)
                when 'jsonl' then 'not valid JSON' || case
                    when $hint_prefixes then coalesce(list_filter(
                        $prefix_hints, lambda h: regexp_matches(raw, h.pattern)
                    )[1].hint, '')
                    else ''
                end
                when 'logfmt' then 'not a logfmt line'
                else 'does not match sources.log_format.pattern'
            end
            when $kind = 'jsonl' and fields[1] is null and json_type(raw) <> 'OBJECT'
                then 'JSON ' || lower(json_type(raw)) || ', not an object'
            -- A contract key twice: which value is meant is unknown (a reader takes the first,
            -- another the last), so the line is not read either way.
            when len(contract_keys_seen) <> len(list_distinct(contract_keys_seen))
                or nested_key_twice or ways_found > 1 then
                'a key of the log contract appears twice '
                || case $kind when 'jsonl' then 'in the JSON object' else 'on the logfmt line' end
            when envelope_key_twice then 'a key of the log contract appears twice in the envelope'
            -- A collector's own line read as the record: the reason names the setting
            -- that reads it (`hints.COLLECTOR_HINTS`)
            when ts_kind is null or ts_kind = 'NULL' then 'missing ts' || coalesce(
                envelope_lacks[1], ''
            ) || case
                when $hint_collectors then coalesce(list_filter(
                    $collector_hints, lambda h: list_has_all(json_keys(raw), h.keys)
                        and (h.text is null or regexp_matches(raw ->> h.text, '^\s*\{'))
                )[1].hint, '')
                else ''
            end
            when ts_format in ('epoch_s', 'epoch_ms')
                and ts_kind not in ('INTEGER', 'DOUBLE') then 'ts is not a number'
            when ts_format in ('epoch_us', 'epoch_ns') and ts_kind not in ('INTEGER', 'VARCHAR')
                then 'ts is not a whole number or a string of digits'
            when ts_format not in ('epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns')
                and ts_kind <> 'VARCHAR'
                and (ts_format = 'rfc3339' or ts_kind <> 'INTEGER')
                -- epoch time as a number: the reason names its ts_format (`hints.EPOCH_HINTS`;
                -- not an OTLP body's ts, which is read as RFC 3339 whatever ts_format says)
                then 'ts is not a string' || case
                    when ts_format = 'rfc3339' and not $otlp
                        and ts_kind in ('INTEGER', 'UBIGINT', 'DOUBLE')
                        then coalesce(list_filter(
                            $ts_epoch_hints, lambda h: regexp_full_match(ts_text, h.pattern)
                        )[1].hint, '')
                    else ''
                end
            when ts_utc is null then case ts_format
                -- a time a strptime ts_format reads (fluentd's), or epoch time in a string of
                -- digits: the reason names that setting (`hints.TS_FORMAT_HINTS`, `EPOCH_HINTS`)
                when 'rfc3339' then 'ts is not an RFC 3339 timestamp' || coalesce(list_filter(
                    $ts_format_hints, lambda h: regexp_full_match(ts_text, h.pattern)
                )[1].hint, list_filter(
                    $ts_epoch_hints,
                    lambda h: h.text and not $otlp and regexp_full_match(ts_text, h.pattern)
                )[1].hint, '')
                when 'epoch_s' then 'ts is not epoch seconds'
                when 'epoch_ms' then 'ts is not epoch milliseconds'
                when 'epoch_us' then 'ts is not epoch microseconds'
                when 'epoch_ns' then 'ts is not epoch nanoseconds'
                else 'ts does not match sources.log_format.ts_format'
            end
            when ts_utc < $ts_lowest or ts_utc >= $ts_highest
                then 'ts is out of range (UTC years 0001 to 9999)'
            when event_kind is null or event_kind = 'NULL'
                then 'missing event' || coalesce(envelope_lacks[2], '')
            when event_kind <> 'VARCHAR' then 'event is not a string'
            when not is_payment_event then null
            -- a quote opened and never closed (an odd number of quotes not escaped): the keys
            -- after it would be read as the value's text
            when $kind = 'logfmt'
                and length(regexp_replace(left(raw, -1), '\\.|[^"]', '', 'g')) % 2 = 1
                then 'not a logfmt line: a quoted value is never closed'
            when txn_id_kind in ('INTEGER', 'DOUBLE', 'BOOLEAN', 'OBJECT', 'ARRAY')
                then 'txn_id is not a string'
            when txn_id_kind is distinct from 'VARCHAR' or txn_id = ''
                then 'payment event without txn_id' || coalesce(envelope_lacks[3], '')
            when customer_id_kind not in ('VARCHAR', 'NULL') then 'customer_id is not a string'
            -- U+FFFD is what a collector writes for bytes it could not decode (Docker's split
            -- of a long entry inside a multi-byte character): the id is not the one logged
            when contains(txn_id, chr(65533)) or contains(customer_id, chr(65533))
                then 'txn_id or customer_id holds U+FFFD (bytes a collector could not decode)'
            -- A character no one sees (U+00A0, U+200B, U+FEFF, U+2028, a tab inside): the id is
            -- not the table's as written, so `t1` and `t1` + NBSP would be two payments, each
            -- credited (ASCII white space at the ends is trimmed, an inner space is the id's)
            when hidden_character <> '' then 'txn_id holds '
                || printf('U+%04X', unicode(hidden_character))
                || ' (a control, format or space character other than U+0020): ids compare '
                || 'exactly, so it would not match the table''s id as written'
            when amount_kind not in ('INTEGER', 'NULL') then 'amount_minor is not an integer'
            when amount_kind = 'INTEGER' and coalesce(
                try_cast(amount_text as bigint) > $amount_highest, true
            ) then 'amount_minor is out of range'
            when try_cast(amount_text as bigint) <= 0 then 'amount_minor is not positive'
            when currency_kind not in ('VARCHAR', 'NULL') then 'currency is not a string'
            -- A code (three capitals) is named: DEM, HRK (withdrawn) and CNH (no country's
            -- tender) are codes, but no money to credit on the window's days (the gate rejects
            -- a run with such a line: `gate.NOT_MONEY_REASON` matches this reason)
            when currency is not null and try_cast(currency as log_iso_currency) is null
                then case
                    when regexp_full_match(currency, '[A-Z]{3}')
                        then 'currency ' || currency || ' is not money on ' || $money_days
                            || ' (UTC): legal tender nowhere then (withdrawn, or not ISO 4217)'
                    -- the gate rejects a run with such a line too (`gate.NOT_ISO_REASON`)
                    else 'currency is not an ISO 4217 code'
                end
            when error_code_kind not in ('VARCHAR', 'NULL') then 'error_code is not a string'
        end as quarantine_reason
    from payment
),

batched as (
    -- A record that is a JSON array holds the objects at its top level as records (an HTTP
    -- output's batch): quarantined, it is one item under the quarantine limit, whatever
    -- failures it holds. Each object's failure event (by the event field's path, as a record of
    -- its own is read; the envelope's event is each object's when the path is the envelope's)
    -- is listed, and the map stops the run on an array that holds one (`lost.batched`).
    -- An OTLP record's body may be such an array: `otlp.Fields` lists its records' events.
    select
        *,
        list_filter(
            -- each way of reading the event's path (`chosen`) an object holds
            flatten(list_transform(
                array_objects,
                lambda o: case
                    when $otlp then [o ->> '$']
                    when $from_envelope[2] then [event]
                    else list_select(json_extract_string(o, $paths), $path_of[2])
                end
            )),
            lambda e: list_contains($failure_events, e)
        ) as array_failures
    from (
        select
            *,
            -- only a record without an event of its own can be an array: parsed once more
            -- for its type only then (nested, so that DuckDB evaluates it on those alone)
            case when $otlp then json_extract(envelope, '$.batched[*]')
                when $kind = 'jsonl' and fields is not null
                and (fields[2] is null or $from_envelope[2]) then
                case when json_type(raw) = 'ARRAY' then list_filter(
                    -- a string holding an object (a batch of the service's lines as text) is one
                    list_transform(json_extract(raw, '$[*]'), lambda v: case
                        when json_type(v) = 'VARCHAR' and json_valid(v ->> '$')
                            then (v ->> '$')::json
                        else v
                    end),
                    lambda v: json_type(v) = 'OBJECT'
                ) end
            end as array_objects
        from checked
    )
),

final as (
    select
        file_id,
        line,
        -- A record below its key's line (OTLP, CloudWatch) names where it is.
        case
            when problem is null and position is not null
                then quarantine_reason || ' (' || position || ')'
            else quarantine_reason
        end as quarantine_reason,
        case
            when quarantine_reason is not null then coalesce(preview, left(written, -1))
        end as raw,
        -- The record's bytes and its time: the same as its bytes alone unless the time is the
        -- envelope's (`envelope.time`), where one message at two times is two events.
        case when quarantine_reason is null then hash(written, epoch_us(ts_utc)) end as line_hash,
        case when quarantine_reason is null then ts_utc end as ts_utc,
        quarantine_reason is null and is_payment_event as is_payment_event,
        quarantine_reason is null and list_contains($failure_events, event) as is_failure_event,
        -- A well-formed line whose event is no failure event as written, but one once a
        -- format character anywhere and blanks at its ends are set aside (`$event_set_aside`:
        -- U+200B, U+FEFF; a space, tab, CR or LF) and its case folded (`Payment.Failed`,
        -- `payment.failed` + U+200B): events compare exactly, so it is irrelevant, and the gate
        -- rejects the run naming it (`policy_checks.events_written_otherwise`).
        case
            when quarantine_reason is null
                and not list_contains($failure_events, event)
                and list_contains(
                    list_transform(
                        $failure_events, lambda e: lower(regexp_replace(e, $event_set_aside, '', 'g'))
                    ),
                    lower(regexp_replace(event, $event_set_aside, '', 'g'))
                )
                then event
        end as event_written_otherwise,
        -- A quarantined line whose event (as far as it was read) is a failure event: the gate
        -- rejects a run losing one for its currency, and only such a line (a success line's
        -- currency changes no credit).
        quarantine_reason is not null
            and coalesce(list_contains($failure_events, event), false) as is_quarantined_failure,
        case
            when is_failure_event then md5_number_upper(concat(written, epoch_us(ts_utc)))
        end as line_md5,
        case when is_failure_event then event end as event,
        case when is_failure_event then txn_id end as txn_id,
        -- A blank customer_id names no customer: the line carries none (rule 4). Blank is ASCII
        -- white space only, as trimming is (RE2's \S left VT out: a customer "\v" was owed).
        case
            when is_failure_event and trim(customer_id, $ascii_space) <> '' then customer_id
        end as customer_id,
        case when is_failure_event then try_cast(amount_text as bigint) end as amount_minor,
        case when is_failure_event then currency end as currency,
        case when is_failure_event then error_code end as error_code,
        case when len(array_failures) > 0 then len(array_objects) end as array_records,
        case when len(array_failures) > 0 then array_failures end as array_failures,
        position
    from batched
)

select * from final
