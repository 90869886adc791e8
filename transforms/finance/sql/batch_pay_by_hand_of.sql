-- A batch's lines to pay by hand, in the order of the credit file.
select * from batch_pay_by_hand where batch_id = $batch_id order by customer_id, currency
