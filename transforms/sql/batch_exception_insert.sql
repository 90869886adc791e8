-- One decrease for finance to review (grain: batch_id, credit_id).
insert into batch_exceptions (
    batch_id, credit_id, incident_id, customer_id, currency, due_minor, paid_minor, detail
)
values ($batch_id, $credit_id, $incident_id, $customer_id, $currency, $due_minor, $paid_minor, $detail)
