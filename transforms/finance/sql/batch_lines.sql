-- The payment lines of batch $batch_id (key: entry_id), in the order of the credit file.
select
    ledger.entry_id,
    ledger.batch_id,
    ledger.credit_id,
    ledger.incident_id,
    ledger.customer_id,
    ledger.currency,
    ledger.amount_minor,
    case when ledger.entry_id like '%-01' then 'initial' else 'increase' end as entry_kind,
    credits.description,
    credits.policy_version,
    ledger.run_id
from ledger
inner join run_credits as credits
    on credits.run_id = ledger.run_id and credits.credit_id = ledger.credit_id
where ledger.batch_id = $batch_id
order by ledger.customer_id, ledger.currency
