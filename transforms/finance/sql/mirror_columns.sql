-- A mirror table's columns in order.
select column_name from information_schema.columns
where table_name = $table and table_schema = 'main'
order by ordinal_position
