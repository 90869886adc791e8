-- The transaction rows a run needs, streamed (key: txn_id): those created in the window widened
-- by the slack on both sides (table_only rows and most candidates) or at no time and not
-- `succeeded` (any could be a table-only failure: the gate must see it; a payment that went
-- through never is), then those of the candidate txn_ids from the logs not read by the first. Two arms, so that each can use its own index
-- (created_at; txn_id), and the keys are unnested once, not parsed per row. The txn_id test is
-- exact: a table txn_id padded with spaces is found only through created_at.
-- `{relation}` is the table name (a validated identifier) or the incident's query as a subquery,
-- filtered the same way; the values come from pg_settings.sql.
select
    txn_id,
    customer_id,
    amount_minor,
    currency,
    status,
    error_code,
    created_at,
    updated_at
from {relation} as source
where created_at >= cast(current_setting('outage_credits.created_from') as timestamptz)
    and created_at < cast(current_setting('outage_credits.created_until') as timestamptz)
    or created_at is null and status is distinct from 'succeeded'
union all
select
    txn_id,
    customer_id,
    amount_minor,
    currency,
    status,
    error_code,
    created_at,
    updated_at
from {relation} as source
where txn_id in (select unnest(cast(current_setting('outage_credits.keys') as text[])))
    and (
        created_at >= cast(current_setting('outage_credits.created_from') as timestamptz)
        and created_at < cast(current_setting('outage_credits.created_until') as timestamptz)
        or created_at is null and status is distinct from 'succeeded'
    ) is not true
