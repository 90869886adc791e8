-- Whether each value of the json column {column} of the server's rows in `arrow_rows` is JSON
-- (the product writes only JSON there; PostgreSQL keeps it as text, which an edit on the server
-- can make anything). One row per row, in order ({column}: an identifier, never a value).
select json_valid({column}) as valid from arrow_rows
