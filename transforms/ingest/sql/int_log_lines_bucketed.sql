-- Every physical log line in exactly one bucket (key: file_id, line), a view over the staged
-- lines:
--   quarantined  breaks the log contract (`quarantine_reason`, `raw`);
--   duplicate    byte-identical to an earlier well-formed line (files in name order, then line);
--   relevant     a candidate failure (see `int_log_events_bucketed`);
--   irrelevant   any other well-formed line, checked in full or, when it cannot carry a failure
--                event, by its shape only (`is_checked` false: its event is not known).
-- Only failure-event lines carry their fields (`ts_utc`, `event`, `txn_id`, ...); the other
-- lines are counted and compared, not kept.
create or replace view int_log_lines_bucketed as
with

quarantined as (
    select * from stg_log_quarantine
),

events as (
    select * from int_log_events_bucketed
),

other_lines as (
    select * from stg_log_lines
),

duplicates as (
    select * from int_log_line_duplicates
),

unchecked as (
    select * from stg_log_unchecked
),

final as (
    select
        file_id,
        line,
        'quarantined' as bucket,
        true as is_checked,
        quarantine_reason,
        raw
    from quarantined
    union all by name
    select
        file_id,
        line,
        bucket,
        true as is_checked,
        true as is_payment_event,
        ts_utc,
        event,
        txn_id,
        customer_id,
        amount_minor,
        currency,
        error_code,
        is_edge
    from events
    union all by name
    select
        other_lines.file_id,
        other_lines.line,
        case when duplicates.line is null then 'irrelevant' else 'duplicate' end as bucket,
        true as is_checked,
        other_lines.is_payment_event
    from other_lines
    left join duplicates
        on duplicates.file_id = other_lines.file_id and duplicates.line = other_lines.line
    union all by name
    select
        file_id,
        unnest(range(first_line, last_line + 1)) as line,
        'irrelevant' as bucket,
        false as is_checked
    from unchecked
)

select * from final
