-- Releases the writer's lock.
select pg_advisory_unlock(hashtextextended('outage-credits warehouse writer', 0))
