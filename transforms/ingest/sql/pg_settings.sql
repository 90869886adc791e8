-- The settings of one read, local to the read's transaction, every value bound:
--   $1 statement_timeout, $2 lock_timeout (milliseconds); $3, $4 the created_at range
--   [from, until) (ISO 8601 with offset); $5 the keys the read needs (a text array).
-- ADBC streams a query only through COPY, and COPY takes no parameters (a query with bound
-- parameters is fetched whole, into memory): so the read's filter reaches it as settings, read
-- back with `current_setting`. Timestamps without a zone are read in UTC, as everywhere else.
select
    set_config('statement_timeout', $1, true),
    set_config('lock_timeout', $2, true),
    set_config('TimeZone', 'UTC', true),
    set_config('outage_credits.created_from', $3, true),
    set_config('outage_credits.created_until', $4, true),
    set_config('outage_credits.keys', cast(cast($5 as text[]) as text), true)
