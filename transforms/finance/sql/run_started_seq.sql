-- Where the warehouse's order of starts puts run $run_id (`run_starts`; no row: no entry).
select started_seq from run_starts where run_id = $run_id
