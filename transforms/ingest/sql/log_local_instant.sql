-- `log_local_instant(local, zone)`: a log time without an offset, read in `zone`, as an instant.
-- A local time that happens twice (a DST fold) is its first occurrence, as for the window; one
-- that never happens (a DST gap) takes the offset in force before the change (02:30 on the day
-- New York springs forward is 07:30Z). ICU's `timezone` gives the later occurrence of a fold:
-- the earlier one is the local time less the offset in force six hours before, if it reads back
-- as the same local time.
create or replace temp macro log_local_instant(local, zone) as (
    select case when timezone(zone, earlier) = local and earlier < later then earlier else later end
    from (
        select
            later,
            timezone('UTC', local - (
                timezone(zone, later - interval 6 hour) - timezone('UTC', later - interval 6 hour)
            )) as earlier
        from (select timezone(zone, local) as later)
    )
)
