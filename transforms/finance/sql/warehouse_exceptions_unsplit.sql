-- Whether run_exceptions still has the one amount column of version 2 (one row when it has).
select column_name
from duckdb_columns()
where database_name = current_database()
    and schema_name = 'main'
    and table_name = 'run_exceptions'
    and column_name = 'amount_minor'
