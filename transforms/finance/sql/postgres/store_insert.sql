-- New rows of one warehouse table from the rows staged by a bulk COPY (identifiers from the
-- schema, never values).
insert into {table} ({columns}) select {columns} from {staged}
