-- Run $run_id's place in its incident's order of starts (`runs_ordered.newness`: 1 is newest).
select newness from runs_ordered where run_id = $run_id
