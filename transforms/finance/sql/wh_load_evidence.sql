-- A run's evidence into the warehouse (grain: run_id, txn_id).
insert into evidence
select
    $run_id as run_id,
    $incident_id as incident_id,
    txn_id,
    class,
    credited,
    reason,
    customer_id,
    amount_minor,
    currency,
    error_codes,
    first_failure_at,
    last_failure_at,
    failure_lines,
    source_files,
    table_status
from work.evidence
