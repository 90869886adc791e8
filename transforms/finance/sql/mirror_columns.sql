-- Every mirror table's columns in order, in one look at the catalog (one look per table cost
-- about 1.6 ms each, and a PostgreSQL store builds its mirror for every read and write).
select table_name, list(column_name order by ordinal_position) as columns
from information_schema.columns
where table_schema = 'main'
group by table_name
