-- A batch whose files, trailer last, are in the outbox.
update batches set state = 'published', published_at = $published_at where batch_id = $batch_id
