-- A batch's payment entries at once, from the Arrow table `arrow_rows` (key: entry_id); the check
-- constraint refuses amounts <= 0.
insert into ledger by name
select * from arrow_rows
