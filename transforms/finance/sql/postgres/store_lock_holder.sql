-- The session holding the writer's lock (`store_try_lock.sql`), as a waiting writer names it:
-- its application_name (`store_name_writer.sql`), client address and since when it holds a
-- session (both null to a role that may not see another role's sessions; the address null for
-- a local socket too). A bigint advisory key shows in pg_locks as classid (high 32 bits) and
-- objid (low).
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
    and locks.objsubid = 1
    and locks.classid::bigint = (writer.lock_key >> 32) & 4294967295
    and locks.objid::bigint = writer.lock_key & 4294967295
