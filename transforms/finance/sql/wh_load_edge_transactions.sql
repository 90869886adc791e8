-- The transactions near a run's window edges into the warehouse (key: run_id, txn_id): every
-- transaction whose first or last failure line, or whose table row with an error code, lies
-- within $margin_minutes of the window's start or end, with the log's and the table's times.
-- Reads the run's window from `runs`, so load the run first.
insert into run_edge_transactions by name
with

run as (
    select window_start_utc, window_end_utc from runs where run_id = $run_id
),

edges as (
    -- Each edge's band: a time t is near it when |t - edge| <= the margin.
    select
        window_start_utc - to_minutes($margin_minutes) as start_low,
        window_start_utc + to_minutes($margin_minutes) as start_high,
        window_end_utc - to_minutes($margin_minutes) as end_low,
        window_end_utc + to_minutes($margin_minutes) as end_high
    from run
),

failure_lines as (
    select * from work.int_failure_lines where txn_id is not null
),

logged as (
    -- Times first: the codes and files are listed only for the few transactions kept.
    select
        txn_id,
        min(ts_utc) as log_first_failure_utc,
        max(ts_utc) as log_last_failure_utc
    from failure_lines
    group by txn_id
),

near_edges as (
    -- Transactions with a table row with an error code near an edge.
    select distinct stg_transactions.txn_id
    from work.stg_transactions
    cross join edges
    where stg_transactions.error_code is not null
        and (
            stg_transactions.created_at between edges.start_low and edges.start_high
            or stg_transactions.created_at between edges.end_low and edges.end_high
        )
),

near_logged as (
    -- Transactions with a failure line near an edge.
    select logged.txn_id
    from logged
    cross join edges
    where logged.log_first_failure_utc between edges.start_low and edges.start_high
        or logged.log_last_failure_utc between edges.start_low and edges.start_high
        or logged.log_first_failure_utc between edges.end_low and edges.end_high
        or logged.log_last_failure_utc between edges.end_low and edges.end_high
),

maybe_near as (
    -- The only transactions that can be near an edge (a log time or a table row with an error
    -- code near one): both clocks are read for these alone, not for every failed transaction.
    select txn_id from near_logged
    union
    select txn_id from near_edges
),

tabled as (
    select distinct on (txn_id)
        txn_id,
        created_at as table_created_at_utc,
        status as table_status,
        error_code as table_error_code
    from work.stg_transactions
    where txn_id in (select txn_id from maybe_near)
    order by txn_id, created_at
),

classes as (
    select txn_id, class from work.evidence
),

both_clocks as (
    select
        coalesce(logged.txn_id, tabled.txn_id) as txn_id,
        logged.log_first_failure_utc,
        logged.log_last_failure_utc,
        tabled.table_created_at_utc,
        tabled.table_status,
        tabled.table_error_code,
        case when tabled.table_error_code is not null then tabled.table_created_at_utc end
            as table_failure_utc
    from (select * from logged where txn_id in (select txn_id from maybe_near)) as logged
    full outer join tabled on tabled.txn_id = logged.txn_id
),

distances as (
    select
        both_clocks.*,
        least(
            abs(epoch(log_first_failure_utc - run.window_start_utc)),
            abs(epoch(log_last_failure_utc - run.window_start_utc)),
            abs(epoch(table_failure_utc - run.window_start_utc))
        ) as seconds_from_start,
        least(
            abs(epoch(log_first_failure_utc - run.window_end_utc)),
            abs(epoch(log_last_failure_utc - run.window_end_utc)),
            abs(epoch(table_failure_utc - run.window_end_utc))
        ) as seconds_from_end
    from both_clocks
    cross join run
    where log_first_failure_utc is not null or table_failure_utc is not null
),

near as (
    select * from distances
    where least(seconds_from_start, seconds_from_end) <= $margin_minutes * 60
),

listed as (
    select
        txn_id,
        array_to_string(
            list_sort(list(distinct error_code) filter (where error_code is not null)), ','
        ) as log_error_codes,
        array_to_string(list_sort(list(distinct source_file)), ',') as source_files
    from failure_lines
    where txn_id in (select txn_id from near)
    group by txn_id
),

final as (
    select
        $run_id as run_id,
        $incident_id as incident_id,
        near.txn_id,
        case when seconds_from_start <= coalesce(seconds_from_end, seconds_from_start)
            then 'start' else 'end' end as edge,
        near.log_first_failure_utc,
        near.log_last_failure_utc,
        listed.log_error_codes,
        listed.source_files,
        near.table_created_at_utc,
        near.table_status,
        near.table_error_code,
        classes.class
    from near
    left join listed on listed.txn_id = near.txn_id
    left join classes on classes.txn_id = near.txn_id
)

select * from final
