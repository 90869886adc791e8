-- The runs whose published batches paid customer $customer_id, or listed them to pay by hand
-- (key: incident_id, run_id): their failed payments and exceptions explain a credit when the
-- incident's newest run no longer lists the customer.
select distinct incident_id, run_id
from (
    select ledger.incident_id, ledger.run_id
    from ledger
    inner join batches on batches.batch_id = ledger.batch_id and batches.state = 'published'
    where ledger.customer_id = $customer_id
    union all
    select by_hand.incident_id, by_hand.run_id
    from batch_pay_by_hand as by_hand
    inner join batches on batches.batch_id = by_hand.batch_id and batches.state = 'published'
    where by_hand.customer_id = $customer_id
)
order by incident_id, run_id
