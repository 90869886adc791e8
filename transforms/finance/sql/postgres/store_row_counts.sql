-- How many rows a warehouse table holds ({table}: an identifier from the schema).
select count(*) from {table}
