-- One batch (key: batch_id).
select * from batches where batch_id = $batch_id
