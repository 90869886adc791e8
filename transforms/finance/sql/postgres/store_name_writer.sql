-- Names this session, the one writer, for `store_lock_holder.sql` of a writer that waits:
-- its process and machine ($1), shown as the session's application_name.
select set_config('application_name', $1, false)
