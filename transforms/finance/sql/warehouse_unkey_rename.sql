-- Rebuilding the per-run tables of a warehouse made when they had keys, step 1 of 2: the old
-- tables move aside; the schema then creates the new ones (several statements, one migration).
alter table evidence rename to evidence_keyed;
alter table run_credits rename to run_credits_keyed;
alter table run_exceptions rename to run_exceptions_keyed;
alter table run_customers rename to run_customers_keyed;
alter table run_failure_minutes rename to run_failure_minutes_keyed;
alter table run_edge_transactions rename to run_edge_transactions_keyed;
