-- One run into the warehouse (key: run_id).
insert into runs (
    run_id, incident_id, incident_title, timezone, window_start_utc, window_end_utc, status,
    policy_version, policy_sha256, run_folder, started_at, finished_at, manifest
)
values (
    $run_id, $incident_id, $incident_title, $timezone, $window_start_utc, $window_end_utc, $status,
    $policy_version, $policy_sha256, $run_folder, $started_at, $finished_at, $manifest
)
