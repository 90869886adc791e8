-- A batch's decreases at once, from the Arrow table `arrow_rows` (grain: batch_id, credit_id).
insert into batch_exceptions by name
select * from arrow_rows
