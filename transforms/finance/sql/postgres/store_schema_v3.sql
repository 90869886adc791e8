-- The warehouse in PostgreSQL, version 3 (the first that PostgreSQL holds): the same tables and
-- columns as the DuckDB warehouse (../warehouse_schema.sql, which says what each holds), json
-- kept as text. Statements are separated by a line holding only `;` (a DO block holds `;`s).
-- The views (paid_credits, latest_runs) live where the answers are computed, in DuckDB.
create table if not exists runs (
    run_id text primary key,
    incident_id text not null,
    incident_title text,
    timezone text not null,
    window_start_utc timestamptz not null,
    window_end_utc timestamptz not null,
    status text not null,
    policy_version text not null,
    policy_sha256 text not null,
    run_folder text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    manifest text not null,
    decided_by text,
    decided_at timestamptz,
    decision_note text,
    batch_id text
)
;
create table if not exists evidence (
    run_id text not null,
    incident_id text not null,
    txn_id text,
    class text,
    credited boolean,
    reason text,
    customer_id text,
    amount_minor bigint,
    currency text,
    error_codes text,
    first_failure_at timestamptz,
    last_failure_at timestamptz,
    failure_lines bigint,
    source_files text,
    table_status text
)
;
create index if not exists evidence_run on evidence (run_id)
;
create table if not exists run_credits (
    run_id text not null,
    credit_id text,
    incident_id text not null,
    customer_id text,
    currency text,
    credit_amount text,
    credit_amount_minor bigint,
    credited_txn_count bigint,
    failed_amount_minor bigint,
    reason_code text,
    description text,
    policy_version text
)
;
create index if not exists run_credits_run on run_credits (run_id)
;
create table if not exists run_exceptions (
    run_id text not null,
    incident_id text not null,
    exception text,
    customer_id text,
    currency text,
    txn_id text,
    txn_count bigint,
    detail text,
    credit_owed_minor bigint,
    failed_amount_minor bigint
)
;
create table if not exists run_customers (
    run_id text not null,
    customer_id text,
    name text,
    email text,
    country text,
    segment text,
    status text
)
;
create table if not exists run_failure_minutes (
    run_id text not null,
    incident_id text not null,
    minute_utc timestamptz,
    event text,
    error_code text,
    source_file text,
    lines bigint
)
;
create table if not exists run_edge_transactions (
    run_id text not null,
    incident_id text not null,
    txn_id text,
    edge text,
    log_first_failure_utc timestamptz,
    log_last_failure_utc timestamptz,
    log_error_codes text,
    source_files text,
    table_created_at_utc timestamptz,
    table_status text,
    table_error_code text,
    class text
)
;
create table if not exists batches (
    batch_id text primary key,
    incident_id text not null,
    run_id text not null,
    kind text not null,
    row_count bigint not null,
    totals_minor text not null,
    entry_hash text not null,
    policy_version text not null,
    folder text not null,
    state text not null,
    approved_by text not null,
    created_at timestamptz not null,
    published_at timestamptz,
    journal_head text,
    ledger_head text
)
;
create table if not exists batch_exceptions (
    batch_id text not null,
    credit_id text not null,
    incident_id text not null,
    customer_id text not null,
    currency text not null,
    due_minor bigint not null,
    paid_minor bigint not null,
    detail text not null
)
;
create table if not exists batch_pay_by_hand (
    batch_id text not null,
    incident_id text not null,
    run_id text not null,
    customer_id text not null,
    currency text not null,
    txn_count bigint,
    credit_owed_minor bigint not null,
    paid_minor bigint not null,
    listed_before_minor bigint not null,
    to_pay_minor bigint not null,
    detail text
)
;
-- One incident's entries are one chain: a second writer could never append the same seq.
create table if not exists ledger (
    entry_id text primary key,
    credit_id text not null,
    incident_id text not null,
    customer_id text not null,
    currency text not null,
    amount_minor bigint not null check (amount_minor > 0),
    batch_id text not null,
    run_id text not null,
    published_at timestamptz not null,
    seq bigint,
    prev_hash text,
    hash text,
    link text,
    unique (incident_id, seq)
)
;
create table if not exists journal (
    seq bigint primary key,
    recorded_at timestamptz not null,
    incident_id text,
    run_id text,
    event text not null,
    actor text not null,
    detail text not null,
    prev_hash text not null,
    hash text not null,
    link text
)
;
create table if not exists schema_versions (
    version integer primary key,
    upgraded_at timestamptz not null
)
;
-- Least privilege: the role one login that runs and approves logs in as (store_roles.sql splits
-- it into the pipeline's and finance's; an administrator grants them,
-- see docs/warehouse.md) reads everything and appends, but never edits or deletes the ledger,
-- the journal or a batch; it may only decide a run and mark a batch's files written. Roles
-- belong to the whole server: another database may have made it already.
do $$
begin
    create role credits_writer nologin;
exception
    when duplicate_object or unique_violation then null;
end
$$
;
grant usage on schema public to credits_writer
;
grant select, insert on runs, evidence, run_credits, run_exceptions, run_customers,
    run_failure_minutes, run_edge_transactions, batches, batch_exceptions, batch_pay_by_hand,
    ledger, journal, schema_versions to credits_writer
;
grant update (status, decided_by, decided_at, decision_note, batch_id) on runs to credits_writer
;
grant update (state, published_at) on batches to credits_writer
