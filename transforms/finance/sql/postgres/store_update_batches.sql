-- A batch whose files are written (key: batch_id).
update batches set state = $1, published_at = $2 where batch_id = $3
