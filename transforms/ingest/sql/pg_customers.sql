-- The customer rows a run can need, streamed (key: customer_id): those whose customer_id is in
-- the keys (sql/candidate_customer_ids.sql), and those whose id is null or not printable ASCII
-- words between single spaces (blank, a tab, CR or LF, a blank at an end, a hidden character
-- such as U+200B or U+00A0, or a letter beyond ASCII), never the whole table: such a row could
-- be any candidate's customer (no key), or a candidate's id written otherwise or in another
-- Unicode form, which the gate must see as it does in a file
-- (quality/sql/customer_ids_hidden.sql, touched_customers.sql). No index finds those ids, so
-- the server scans the table once and sends only these rows; `collate "C"` keeps the range
-- one of code points. `{relation}` is the table name (a validated identifier) or the
-- incident's query as a subquery; the keys come from pg_settings.sql.
select
    customer_id,
    name,
    email,
    country,
    segment,
    status
from {relation} as source
where customer_id in (select unnest(cast(current_setting('outage_credits.keys') as text[])))
    or (customer_id collate "C" ~ '^[!-~]+( [!-~]+)*$') is not true
