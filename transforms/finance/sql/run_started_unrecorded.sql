-- Whether run $run_id has a `started` journal entry: a run the warehouse holds no row of was
-- then stopped before its results were loaded (killed), not mistyped.
select count(*) > 0 from journal where run_id = $run_id and event = 'started'
