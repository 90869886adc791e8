-- Rebuilding the per-run tables, step 2 of 2: every row into the new tables, the old dropped.
insert into evidence by name select * from evidence_keyed;
insert into run_credits by name select * from run_credits_keyed;
insert into run_exceptions by name select * from run_exceptions_keyed;
insert into run_customers by name select * from run_customers_keyed;
insert into run_failure_minutes by name select * from run_failure_minutes_keyed;
insert into run_edge_transactions by name select * from run_edge_transactions_keyed;
drop table evidence_keyed;
drop table run_credits_keyed;
drop table run_exceptions_keyed;
drop table run_customers_keyed;
drop table run_failure_minutes_keyed;
drop table run_edge_transactions_keyed;
