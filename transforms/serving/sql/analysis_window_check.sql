-- A run's window_check as its manifest holds it (one row; null for a run from before it).
select manifest -> '$.window_check' as window_check
from runs
where run_id = $run_id
