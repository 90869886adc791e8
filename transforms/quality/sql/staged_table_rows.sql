-- The staged transaction and customer tables' rows beside the logs' candidate transactions (one
-- row), before any policy classes or prices them: `credits what-if` (gate.empty_tables).
select
    (select count(*) from stg_transactions) as transaction_rows,
    (select count(*) from stg_customers) as customer_rows,
    (select count(*) from int_candidates) as candidates
