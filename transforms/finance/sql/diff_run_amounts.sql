-- The credit amount of each of run $run_id's credit lines (key: credit_id).
select credit_id, credit_amount_minor from run_credits where run_id = $run_id
