-- The one writer's lock (a session-level advisory lock, held until the session ends or
-- releases it): true when taken, false while another session holds it.
select pg_try_advisory_lock(hashtextextended('outage-credits warehouse writer', 0))
