-- Whether this session still holds the writer's lock (`store_try_lock.sql`): a session cut (a
-- network cut, idle_session_timeout, pg_terminate_backend) fails this statement instead.
select pg_catalog.count(*) = 1
from pg_locks
where locktype = 'advisory'
    and granted
    and pid = pg_backend_pid()
    and database = (select oid from pg_database where datname = current_database())
    and objsubid = 1
    and classid::bigint = (hashtextextended('outage-credits warehouse writer', 0) >> 32) & 4294967295
    and objid::bigint = hashtextextended('outage-credits warehouse writer', 0) & 4294967295
