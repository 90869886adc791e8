-- The warehouse: every run's results, the ledger of published credits and the audit journal.
-- (Several statements in one file, as in its migration warehouse_unkey_*.sql: a schema reads
-- best as a whole.)

-- One row per pipeline run (key: run_id). status: sealing (loaded, its manifest not yet written:
-- never decided, never answers; a run killed then stays so) | pending_approval | rejected (by
-- the gate) | declined (by finance) | published (approved; its batch, if any, is in the outbox).
create table if not exists runs (
    run_id varchar primary key,
    incident_id varchar not null,
    incident_title varchar,
    timezone varchar not null,
    window_start_utc timestamptz not null,
    window_end_utc timestamptz not null,
    status varchar not null,
    policy_version varchar not null,
    policy_sha256 varchar not null,
    run_folder varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    manifest json not null,
    decided_by varchar,
    decided_at timestamptz,
    decision_note varchar,
    batch_id varchar
);

-- The per-run tables below hold what each run computed, as it came out: no primary key, and
-- NOT NULL only on run_id and incident_id, which the load sets. Their grain holds for every run
-- that passed the quality gate (it checks the keys); a rejected run is loaded too, whatever its
-- data repeat or lack (a duplicated txn_id, a customer twice in the customer table, a null
-- currency), so that the warehouse shows what was rejected. Read them by run_id; what a
-- customer gets comes only from runs that passed (support reads pending_approval and published).
-- Warehouses made with keys on these tables are rebuilt once (warehouse_unkey_*.sql).

-- A run's evidence (grain: run_id, txn_id): one row per candidate transaction.
create table if not exists evidence (
    run_id varchar not null,
    incident_id varchar not null,
    txn_id varchar,
    class varchar,
    credited boolean,
    reason varchar,
    customer_id varchar,
    amount_minor bigint,
    currency varchar,
    error_codes varchar,
    first_failure_at timestamptz,
    last_failure_at timestamptz,
    failure_lines bigint,
    source_files varchar,
    table_status varchar
);

-- A run's proposed credit lines (grain: run_id, credit_id), as in its credits.csv.
create table if not exists run_credits (
    run_id varchar not null,
    credit_id varchar,
    incident_id varchar not null,
    customer_id varchar,
    currency varchar,
    credit_amount varchar,
    credit_amount_minor bigint,
    credited_txn_count bigint,
    failed_amount_minor bigint,
    reason_code varchar,
    description varchar,
    policy_version varchar
);

-- A run's exceptions for finance (grain: run_id, exception, customer_id, currency, txn_id).
create table if not exists run_exceptions (
    run_id varchar not null,
    incident_id varchar not null,
    exception varchar,
    customer_id varchar,
    currency varchar,
    txn_id varchar,
    txn_count bigint,
    credit_owed_minor bigint,
    failed_amount_minor bigint,
    detail varchar
);

-- The customers a run touched, as the customer table had them (grain: run_id, customer_id).
create table if not exists run_customers (
    run_id varchar not null,
    customer_id varchar,
    name varchar,
    email varchar,
    country varchar,
    segment varchar,
    status varchar
);

-- For analysts: a run's payment failure lines per minute over the whole span of its logs, not
-- only the window (grain: run_id, minute_utc, event, error_code, source_file). Counts every
-- well-formed line whose event is a failure event, duplicates once; `source_file` is the log
-- file's name as shown in the manifest (the pod is in it).
create table if not exists run_failure_minutes (
    run_id varchar not null,
    incident_id varchar not null,
    minute_utc timestamptz,
    event varchar,
    error_code varchar,
    source_file varchar,
    lines bigint
);

-- For analysts: the transactions near a run's window edges, with both clocks (grain: run_id,
-- txn_id). A transaction is near an edge when its first or last failure line, or its table row
-- with an error code, is within 30 minutes of the window's start or end; `edge` is the nearer
-- edge; `class` is its evidence class, null when it was not a candidate.
create table if not exists run_edge_transactions (
    run_id varchar not null,
    incident_id varchar not null,
    txn_id varchar,
    edge varchar,
    log_first_failure_utc timestamptz,
    log_last_failure_utc timestamptz,
    log_error_codes varchar,
    source_files varchar,
    table_created_at_utc timestamptz,
    table_status varchar,
    table_error_code varchar,
    class varchar
);

-- Published batches (key: batch_id). state: writing (ledger committed, files being written)
-- | published (batch.json is in the outbox).
create table if not exists batches (
    batch_id varchar primary key,
    incident_id varchar not null,
    run_id varchar not null,
    kind varchar not null,
    row_count bigint not null,
    totals_minor json not null,
    entry_hash varchar not null,
    policy_version varchar not null,
    folder varchar not null,
    state varchar not null,
    approved_by varchar not null,
    created_at timestamptz not null,
    published_at timestamptz
);

-- What a batch tells finance beside its payments: credits that came out lower than what was
-- already paid (grain: batch_id, credit_id). Never a negative payment.
create table if not exists batch_exceptions (
    batch_id varchar not null,
    credit_id varchar not null,
    incident_id varchar not null,
    customer_id varchar not null,
    currency varchar not null,
    due_minor bigint not null,
    paid_minor bigint not null,
    detail varchar not null
);

-- What a batch lists for finance to pay by hand (grain: batch_id, customer_id, currency): the
-- approved run's closed_account lines, with what the ledger had paid and earlier batches had
-- listed; to_pay_minor is what is left (added in version 3; earlier batches have none).
create table if not exists batch_pay_by_hand (
    batch_id varchar not null,
    incident_id varchar not null,
    run_id varchar not null,
    customer_id varchar not null,
    currency varchar not null,
    txn_count bigint,
    credit_owed_minor bigint not null,
    paid_minor bigint not null,
    listed_before_minor bigint not null,
    to_pay_minor bigint not null,
    detail varchar
);

-- The ledger: one row per payment instruction ever published (key: entry_id). What a credit_id
-- has been paid is the sum of its entries; a later batch only ever adds increases. Each
-- incident's entries are hash-chained in seq order (columns added in version 2, below).
create table if not exists ledger (
    entry_id varchar primary key,
    credit_id varchar not null,
    incident_id varchar not null,
    customer_id varchar not null,
    currency varchar not null,
    amount_minor bigint not null check (amount_minor > 0),
    batch_id varchar not null,
    run_id varchar not null,
    published_at timestamptz not null
);

-- The audit journal, append-only and hash-chained (key: seq): hash = sha256 (or HMAC, see `link`,
-- added in version 2) of the previous hash and this entry's canonical JSON.
create table if not exists journal (
    seq bigint primary key,
    recorded_at timestamptz not null,
    incident_id varchar,
    run_id varchar,
    event varchar not null,
    actor varchar not null,
    detail json not null,
    prev_hash varchar not null,
    hash varchar not null
);

-- What each credit_id has been paid so far (key: credit_id).
create or replace view paid_credits as
select
    credit_id,
    incident_id,
    customer_id,
    currency,
    cast(sum(amount_minor) as bigint) as paid_minor,
    count(*) as entries,
    max(published_at) as last_published_at
from ledger
group by credit_id, incident_id, customer_id, currency;

-- What each customer has been paid so far, per incident (key: incident_id, customer_id,
-- currency): its credits' `paid_credits` summed. One model for what a batch pays, lists to pay
-- by hand and what `credits diff` shows (int_batch_difference, int_batch_pay_by_hand,
-- diff_listed_beyond_owed), so that they never count it apart.
create or replace view paid_customers as
select incident_id, customer_id, currency, cast(sum(paid_minor) as bigint) as paid_minor
from paid_credits
group by incident_id, customer_id, currency;

-- What batches have listed to pay each customer by hand so far, per incident (key:
-- incident_id, customer_id, currency): `batch_pay_by_hand`'s to_pay_minor summed, read by the
-- same three as `paid_customers`.
create or replace view listed_by_hand as
select incident_id, customer_id, currency, cast(sum(to_pay_minor) as bigint) as listed_minor
from batch_pay_by_hand
group by incident_id, customer_id, currency;

-- Each run's place in the order the warehouse saw runs start (key: run_id): its journal
-- `started` entry's seq. The journal is written by one writer at a time, so this order is the
-- warehouse's own, whatever each machine's clock said (a clock two hours fast made an older run
-- the newest by its start time); null for a run an earlier version started without the entry.
-- Newest first is `runs_ordered.newness`.
create or replace view run_starts as
select run_id, min(seq) as started_seq
from journal
where event = 'started'
group by run_id;

-- Every run with its place in its incident's order of starts (key: run_id): `newness` 1 is the
-- run whose start the warehouse saw last. Read this, never `started_at`, for "newest".
create or replace view runs_ordered as
select
    runs.*,
    run_starts.started_seq,
    row_number() over (
        partition by runs.incident_id
        order by run_starts.started_seq desc nulls last, runs.started_at desc, runs.run_id desc
    ) as newness
from runs
left join run_starts on run_starts.run_id = runs.run_id;

-- The newest run of each incident that was sealed (key: incident_id): a run still `sealing` (or
-- killed before its manifest) is not one.
create or replace view latest_runs as
select * exclude (started_seq, newness)
from runs_ordered
where status <> 'sealing'
qualify row_number() over (partition by incident_id order by newness) = 1;

-- Version 2: the ledger chained per incident (seq, prev_hash, hash, link: sha256 or hmac-sha256),
-- the journal's link kind, and the heads each batch's trailer records. Added to a warehouse an
-- earlier version made; `warehouse.connect` then chains the entries it already had, once, and
-- records the version.
alter table ledger add column if not exists seq bigint;
alter table ledger add column if not exists prev_hash varchar;
alter table ledger add column if not exists hash varchar;
alter table ledger add column if not exists link varchar;
alter table journal add column if not exists link varchar;
alter table batches add column if not exists journal_head varchar;
alter table batches add column if not exists ledger_head varchar;

-- The transaction table's status of each candidate (null in runs loaded before it was kept).
alter table evidence add column if not exists table_status varchar;

-- Version 3: an exception's one amount column split in two, one meaning each (a warehouse made
-- earlier has amount_minor: `warehouse.connect` fills these from it, then drops it).
alter table run_exceptions add column if not exists credit_owed_minor bigint;
alter table run_exceptions add column if not exists failed_amount_minor bigint;

-- The schema versions this warehouse was upgraded to (key: version).
create table if not exists schema_versions (
    version integer primary key,
    upgraded_at timestamptz not null
);
