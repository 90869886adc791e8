-- A batch's lines to pay by hand at once, from the Arrow table `arrow_rows` (grain: batch_id,
-- customer_id, currency).
insert into batch_pay_by_hand by name
select * from arrow_rows
