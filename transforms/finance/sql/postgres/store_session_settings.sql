-- Settings of every session of the store, whatever the database, the role or the URL sets; kept
-- after the transaction commits. A writer's session is its lock (`store_try_lock.sql`): the
-- server must not end it for being idle while the command works on its mirror
-- (idle_session_timeout), nor between the statements of one send
-- (idle_in_transaction_session_timeout); a server without idle_session_timeout (before
-- PostgreSQL 14) has nothing to turn off. But it must end it soon once the writer's machine
-- is gone (powered off, cut from the network): the session's own TCP keepalives, 60 s idle
-- then 6 probes 10 s apart, where the system's default (7200 s, then 9 probes 75 s apart)
-- kept the lock over two hours; and, for a machine gone while the server still sends it rows
-- (keepalives probe only an idle connection), 120 s for data unacknowledged
-- (tcp_user_timeout, in ms) where retransmissions took about 15 minutes; shorter ones set are
-- kept, and a local socket has none. And
-- a commit is durable before the command goes on: an approval writes its batch into the
-- outbox once the server acknowledged it, so with synchronous_commit off a server crash could
-- lose a batch the outbox holds ('local' and the replicated levels flush it here first, and
-- are left as set). And a lock another session holds on the store's tables (a psql
-- transaction left open on `runs`) is waited for 60 s, not without end (lock_timeout 0, the
-- default): a writer waiting so held the store's lock, silent and deaf to Ctrl-C; a
-- lock_timeout set on the server, the database, the login or the URL is kept, 0 too (its
-- source is then not 'default': testing the value replaced a 0 set on purpose).
with wanted (name, value) as (
    values
        ('idle_session_timeout', 0),
        ('idle_in_transaction_session_timeout', 0),
        ('tcp_keepalives_idle', 60),
        ('tcp_keepalives_interval', 10),
        ('tcp_keepalives_count', 6),
        ('tcp_user_timeout', 120000)
)

select pg_catalog.set_config(settings.name, wanted.value::text, false)
from pg_catalog.pg_settings as settings
inner join wanted on settings.name = wanted.name
where settings.name like 'idle%'
    or settings.setting::int = 0
    or settings.setting::int > wanted.value
union all
select pg_catalog.set_config(name, 'on', false)
from pg_catalog.pg_settings
where name = 'synchronous_commit' and setting = 'off'
union all
select pg_catalog.set_config(name, '60000', false)
from pg_catalog.pg_settings
where name = 'lock_timeout' and source = 'default'
