-- Finance's decision on a run.
update runs
set status = $status, decided_by = $by, decided_at = $at, decision_note = $note, batch_id = $batch_id
where run_id = $run_id
