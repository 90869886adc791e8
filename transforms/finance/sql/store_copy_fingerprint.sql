-- A warehouse table's rows, counted and fingerprinted: the sum of each row's hash over {columns},
-- so that two sides holding the same rows agree whatever their order, and a repeated row counts
-- twice ({table}, {columns}: identifiers from the schema, never values).
select count(*) as row_count, coalesce(sum(hash({columns})::hugeint), 0) as fingerprint
from {table}
