-- Each of run $run_id's credit lines (key: credit_id): its credit, and what the policy's basis
-- read to price it (the failed amount, the count of credited payments).
select credit_id, credit_amount_minor, failed_amount_minor, credited_txn_count
from run_credits
where run_id = $run_id
