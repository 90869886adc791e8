-- The candidate transactions' currencies that are no money on the incident's days (not among
-- $currencies, `Incident.currencies`: legal tender somewhere on a day of the window), one row
-- per currency (key: currency), sorted: how many candidates carry it and the first of them.
-- The table's currency where the row exists, else the log's (a log line's is checked already,
-- `stg_logs`, so these come from the transaction table).
select
    currency,
    count(*) as candidates,
    min(txn_id) as first_txn_id
from int_candidates_classified
where currency is not null and not list_contains($currencies, currency)
group by currency
order by currency
