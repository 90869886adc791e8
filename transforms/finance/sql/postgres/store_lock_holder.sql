-- The session holding the writer's lock (`store_try_lock.sql`), as a waiting writer names it:
-- its application_name (`store_name_writer.sql`), client address and since when it holds a
-- session (both null to a role that may not see another role's sessions; the address null for
-- a local socket too). A bigint advisory key shows in pg_locks as classid (high 32 bits) and
-- objid (low), in the database it was taken in.
with writer as (
    select hashtextextended('outage-credits warehouse writer', 0) as lock_key
)

select
    activity.application_name,
    host(activity.client_addr) as client,
    activity.backend_start,
    activity.pid
from pg_locks as locks
inner join pg_stat_activity as activity on locks.pid = activity.pid
cross join writer
where locks.locktype = 'advisory'
    and locks.granted
    -- advisory locks are the database's own: a writer of another database on the same server
    -- (another store, another test) holds a lock of the same key there
    and locks.database = (select oid from pg_database where datname = current_database())
    and locks.objsubid = 1
    and locks.classid::bigint = (writer.lock_key >> 32) & 4294967295
    and locks.objid::bigint = writer.lock_key & 4294967295
