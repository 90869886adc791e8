-- The runs whose published batches paid customer $customer_id (key: incident_id, run_id): their
-- failed payments explain a credit when the incident's newest run no longer lists the customer.
select distinct incident_id, run_id
from ledger
where customer_id = $customer_id
order by incident_id, run_id
