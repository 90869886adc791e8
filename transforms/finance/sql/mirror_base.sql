-- What a PostgreSQL warehouse's mirror held when it was last in step with the server: the keys
-- of an append-only table, whole rows of one whose decision columns change ({base}, {table},
-- {columns}: identifiers from the schema, never values).
create or replace temp table {base} as select distinct {columns} from {table}
