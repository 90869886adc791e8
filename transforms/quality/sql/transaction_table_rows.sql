-- The transaction table's staged rows beside the run's candidate transactions (one row): a table
-- with no row while the logs give candidates is an export cut short (gate.empty_transaction_table).
select
    (select count(*) from stg_transactions) as table_rows,
    (select count(*) from evidence) as candidates
