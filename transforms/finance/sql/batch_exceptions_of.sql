-- A batch's decreases, in the order of the credit file.
select * from batch_exceptions where batch_id = $batch_id order by customer_id, currency
