-- The customer table's staged rows beside the run's credit lines (one row): a table with no row
-- while there are credit lines to pay is an export cut short (gate.empty_customer_table).
select
    (select count(*) from stg_customers) as table_rows,
    (select count(*) from int_credit_lines) as credit_lines
