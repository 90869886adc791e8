-- The tables the warehouse holds (grain: table), to name one dropped behind its back.
select table_name
from duckdb_tables()
where database_name = current_database() and schema_name = current_schema()
