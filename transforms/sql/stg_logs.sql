-- One row per physical log line (key: file_id, line), parsed against the log contract.
-- `quarantine_reason` is set when the line breaks the contract; such a line has no fields.
-- Timestamps with an offset are instants; without one they are read in $logs_timezone.
create or replace table stg_logs as
with

raw_lines as (
    select file_id, line, raw, problem
    from read_parquet($raw_lines)
),

typed as (
    select
        file_id,
        line,
        raw,
        problem,
        md5_number(raw) as line_hash,
        json_valid(raw) as is_json,
        case when json_valid(raw) then json_type(raw) end as json_kind,
        case when json_valid(raw) and json_type(raw) = 'OBJECT' then raw end as object
    from raw_lines
),

fields as (
    select
        *,
        json_type(object, '$.ts') as ts_kind,
        object ->> '$.ts' as ts_text,
        json_type(object, '$.event') as event_kind,
        object ->> '$.event' as event,
        json_type(object, '$.txn_id') as txn_id_kind,
        regexp_replace(object ->> '$.txn_id', '^[[:space:]]+|[[:space:]]+$', '', 'g') as txn_id,
        json_type(object, '$.customer_id') as customer_id_kind,
        object ->> '$.customer_id' as customer_id,
        json_type(object, '$.amount_minor') as amount_kind,
        object ->> '$.amount_minor' as amount_text,
        json_type(object, '$.currency') as currency_kind,
        object ->> '$.currency' as currency,
        json_type(object, '$.error_code') as error_code_kind,
        object ->> '$.error_code' as error_code
    from typed
),

timed as (
    select
        *,
        case
            when not regexp_full_match(
                ts_text, '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?'
            ) then null
            when regexp_matches(ts_text, '([Zz]|[+-]\d{2}:\d{2})$') then try_cast(ts_text as timestamptz)
            else timezone($logs_timezone, try_cast(ts_text as timestamp))
        end as ts_utc,
        list_contains($failure_events, event) or starts_with(event, 'payment.') as is_payment_event
    from fields
),

checked as (
    select
        *,
        case
            when problem is not null then problem
            when raw = '' then 'blank line'
            when not is_json then 'not valid JSON'
            when json_kind <> 'OBJECT' then 'JSON ' || lower(json_kind) || ', not an object'
            when ts_kind is null or ts_kind = 'NULL' then 'missing ts'
            when ts_kind <> 'VARCHAR' then 'ts is not a string'
            when ts_utc is null then 'ts is not an RFC 3339 timestamp'
            when event_kind is null or event_kind = 'NULL' then 'missing event'
            when event_kind <> 'VARCHAR' then 'event is not a string'
            when not is_payment_event then null
            when txn_id_kind is distinct from 'VARCHAR' or txn_id = '' then 'payment event without txn_id'
            when customer_id_kind not in ('VARCHAR', 'NULL') then 'customer_id is not a string'
            when amount_kind not in ('BIGINT', 'UBIGINT', 'NULL') then 'amount_minor is not an integer'
            when amount_kind = 'UBIGINT' and try_cast(amount_text as bigint) is null
                then 'amount_minor is out of range'
            when try_cast(amount_text as bigint) <= 0 then 'amount_minor is not positive'
            when currency_kind not in ('VARCHAR', 'NULL') then 'currency is not a string'
            when currency is not null and not list_contains($currencies, currency)
                then 'currency is not an ISO 4217 code'
            when error_code_kind not in ('VARCHAR', 'NULL') then 'error_code is not a string'
        end as quarantine_reason
    from timed
),

final as (
    select
        file_id,
        line,
        line_hash,
        quarantine_reason,
        case when quarantine_reason is not null then raw end as raw,
        case when quarantine_reason is null then ts_utc end as ts_utc,
        case when quarantine_reason is null then event end as event,
        case when quarantine_reason is null and is_payment_event then txn_id end as txn_id,
        case when quarantine_reason is null and is_payment_event then customer_id end as customer_id,
        case when quarantine_reason is null and is_payment_event
            then try_cast(amount_text as bigint) end as amount_minor,
        case when quarantine_reason is null and is_payment_event then currency end as currency,
        case when quarantine_reason is null and is_payment_event then error_code end as error_code
    from checked
)

select * from final
