-- A loaded run whose manifest is written gets its verdict's status (pending_approval, rejected).
update runs set status = $status where run_id = $run_id and status = $sealing
