-- A run's decision (the columns a decision or a seal sets; key: run_id).
update runs
set status = $1, decided_by = $2, decided_at = $3, decision_note = $4, batch_id = $5
where run_id = $6
