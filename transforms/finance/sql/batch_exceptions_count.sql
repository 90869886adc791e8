-- How many decreases a batch reports.
select count(*) from batch_exceptions where batch_id = $batch_id
