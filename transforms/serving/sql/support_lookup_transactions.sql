-- A customer's (or one transaction's) candidate transactions in the answering runs $run_ids
-- (key: incident_id, txn_id): when and how each failed, its class and whether it is credited,
-- and the customer's segment as that run read it (an excluded segment is why it is not). Given
-- several runs of one incident (the published runs that paid a customer the answering run no
-- longer lists), a payment is the newest run's, listed once.
select
    evidence.run_id,
    evidence.incident_id,
    evidence.txn_id,
    evidence.customer_id,
    evidence.first_failure_at as first_failure_utc,
    evidence.last_failure_at as last_failure_utc,
    evidence.failure_lines,
    evidence.error_codes,
    evidence.class,
    evidence.credited,
    evidence.reason,
    evidence.amount_minor,
    evidence.currency,
    customers.segment
from evidence
inner join runs_ordered as runs on runs.run_id = evidence.run_id
left join run_customers as customers
    on customers.run_id = evidence.run_id and customers.customer_id = evidence.customer_id
where list_contains($run_ids, evidence.run_id)
    and (evidence.customer_id = $customer_id or evidence.txn_id = $txn_id)
qualify row_number() over (
    partition by evidence.incident_id, evidence.txn_id order by runs.newness
) = 1
order by evidence.incident_id, evidence.first_failure_at, evidence.txn_id
