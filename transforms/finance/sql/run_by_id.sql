-- One run (key: run_id).
select * from runs where run_id = $run_id
