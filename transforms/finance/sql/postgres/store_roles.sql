-- Separation of duties: the pipeline's role (credits_runner) adds a run, its rows and its seal,
-- and never pays; finance's role (credits_approver) decides a run and publishes its batch, and
-- never adds a run. A pipeline worker's login can then neither approve a run nor add a batch
-- that the next approval would write into the outbox unreviewed; what it computed reaches the
-- ledger only through an approver. credits_writer (both, schema_v3) stays for one login doing
-- both. Neither may UPDATE or DELETE the ledger, the journal or a batch's content. The seal and
-- a decision set the same columns of `runs` (one statement sends them), so both may update
-- those; a runner setting a run `published` pays nothing: the batch and the ledger are not its.
-- Made by the store's owner (its first writer, or a later one that may make roles); statements
-- separated by a line holding only `;` (a DO block holds `;`s); roles belong to the server.
do $$
begin
    create role credits_runner nologin;
exception
    when duplicate_object or unique_violation then null;
end
$$
;
do $$
begin
    create role credits_approver nologin;
exception
    when duplicate_object or unique_violation then null;
end
$$
;
do $$
begin
    execute format('grant usage on schema %I to credits_runner, credits_approver',
        current_schema());
end
$$
;
grant select on runs, evidence, run_credits, run_exceptions, run_customers, run_failure_minutes,
    run_edge_transactions, batches, batch_exceptions, batch_pay_by_hand, ledger, journal,
    schema_versions to credits_runner, credits_approver
;
grant insert on runs, evidence, run_credits, run_exceptions, run_customers, run_failure_minutes,
    run_edge_transactions, journal, schema_versions to credits_runner
;
grant insert on batches, batch_exceptions, batch_pay_by_hand, ledger, journal, schema_versions
    to credits_approver
;
grant update (status, decided_by, decided_at, decision_note, batch_id) on runs
    to credits_runner, credits_approver
;
grant update (state, published_at) on batches to credits_approver
