-- The runs whose published batches paid customer $customer_id (key: incident_id, run_id): their
-- failed payments explain a credit when the incident's newest run no longer lists the customer.
select distinct ledger.incident_id, ledger.run_id
from ledger
inner join batches on batches.batch_id = ledger.batch_id and batches.state = 'published'
where ledger.customer_id = $customer_id
order by ledger.incident_id, ledger.run_id
