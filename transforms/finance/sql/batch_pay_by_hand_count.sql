-- How many lines a batch lists to pay by hand.
select count(*) from batch_pay_by_hand where batch_id = $batch_id
