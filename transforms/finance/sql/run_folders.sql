-- The folder of every run the warehouse lists, sorted (key: run_folder; one statement for
-- both stores: a reader's first look before its snapshot, `witnesses.witnessed_at`).
select distinct run_folder
from runs
order by run_folder
