-- `log_local_instant(local, zone)`: a log time without an offset, read in `zone`, as an instant.
-- A local time that happens twice (a DST fold) is its first occurrence (a window edge written so
-- is refused instead: `incident/file.py`); one that never happens (a DST gap) takes the offset
-- in force before the change (02:30 on the day New York springs forward is 07:30Z). ICU's
-- `timezone` gives the later occurrence of a fold: the earlier one is the local time less the
-- offset in force six hours before, if it reads back as the same local time.
-- An expression, not a subquery: a subquery per line made DuckDB materialize the whole stream of
-- lines it is applied to (a correlated join), before the first row came out.
create or replace temp macro log_local_instant(local, zone) as
    case
        when timezone(zone, timezone('UTC', local - (
                timezone(zone, timezone(zone, local) - interval 6 hour)
                - timezone('UTC', timezone(zone, local) - interval 6 hour)
            ))) = local
            and timezone('UTC', local - (
                timezone(zone, timezone(zone, local) - interval 6 hour)
                - timezone('UTC', timezone(zone, local) - interval 6 hour)
            )) < timezone(zone, local)
            then timezone('UTC', local - (
                timezone(zone, timezone(zone, local) - interval 6 hour)
                - timezone('UTC', timezone(zone, local) - interval 6 hour)
            ))
        else timezone(zone, local)
    end
