-- Settings of every session of the store, whatever the database, the role or the URL sets; kept
-- after the transaction commits. A writer's session is its lock (`store_try_lock.sql`): the
-- server must not end it for being idle while the command works on its mirror
-- (idle_session_timeout), nor between the statements of one send
-- (idle_in_transaction_session_timeout); a server without idle_session_timeout (before
-- PostgreSQL 14) has nothing to turn off. And a commit is durable before the command goes on:
-- an approval writes its batch into the outbox once the server acknowledged it, so with
-- synchronous_commit off a server crash could lose a batch the outbox holds ('local' and the
-- replicated levels flush it here first, and are left as set).
select pg_catalog.set_config(name, case name when 'synchronous_commit' then 'on' else '0' end, false)
from pg_catalog.pg_settings
where name in ('idle_session_timeout', 'idle_in_transaction_session_timeout')
    or (name = 'synchronous_commit' and setting = 'off')
