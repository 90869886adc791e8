-- One payment instruction (key: entry_id); the check constraint refuses amounts <= 0.
insert into ledger (
    entry_id, credit_id, incident_id, customer_id, currency, amount_minor, batch_id, run_id,
    published_at
)
values (
    $entry_id, $credit_id, $incident_id, $customer_id, $currency, $amount_minor, $batch_id,
    $run_id, $published_at
)
