-- A writer's session is its lock (`store_try_lock.sql`): the server must not end it for being
-- idle while the command works on its mirror (idle_session_timeout), nor between the statements
-- of one send (idle_in_transaction_session_timeout), whatever the database or the role sets.
-- Session settings, kept after the transaction commits; a server without idle_session_timeout
-- (before PostgreSQL 14) has nothing to turn off.
select pg_catalog.set_config(name, '0', false)
from pg_catalog.pg_settings
where name in ('idle_session_timeout', 'idle_in_transaction_session_timeout')
