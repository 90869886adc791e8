-- Run $run_id's exceptions in the warehouse in its exceptions.csv's order
-- (outputs.EXCEPTION_ORDER), to be written again as that file and checked against the sealed
-- manifest's sha256: the batch's pay-by-hand list is made from these rows.
select *
from run_exceptions
where run_id = $run_id
order by exception, customer_id, currency, txn_id
