-- Whether the open DuckDB file has the warehouse's audit `journal`, which every version of the
-- warehouse has: a file without it is not a warehouse.
select count(*) > 0
from duckdb_tables()
where database_name = current_database() and schema_name = 'main' and table_name = 'journal'
