-- The customer rows a run can need, streamed (key: customer_id): those whose customer_id is in
-- the keys (sql/candidate_customer_ids.sql), never the whole table. `{relation}` is the table
-- name (a validated identifier) or the incident's query as a subquery; the keys come from
-- pg_settings.sql.
select
    customer_id,
    name,
    email,
    country,
    segment,
    status
from {relation} as source
where customer_id in (select unnest(cast(current_setting('outage_credits.keys') as text[])))
