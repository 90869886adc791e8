-- Every row of one warehouse table, in the DuckDB table's column order ({columns}, {table}:
-- identifiers from the schema, never values).
select {columns} from {table}
