-- A mirror table filled from the server's rows in the Arrow table `arrow_rows` (by name: the
-- server's types are cast to the warehouse's, text to json among them).
insert into {table} by name select * from arrow_rows
