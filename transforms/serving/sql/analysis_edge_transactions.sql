-- A run's transactions near its window edges (key: txn_id) with each clock's signed distance
-- from the nearer edge in seconds (negative: before it) and the log's lead over the table
-- (`log_minus_table_seconds`: how much later the log's first failure is than `created_at`).
with

near as (
    select * from run_edge_transactions where run_id = $run_id
),

run as (
    select window_start_utc, window_end_utc from runs where run_id = $run_id
),

final as (
    select
        near.txn_id,
        near.edge,
        near.class,
        near.log_first_failure_utc,
        near.log_last_failure_utc,
        near.table_created_at_utc,
        near.table_status,
        near.table_error_code,
        near.log_error_codes,
        near.source_files,
        epoch(near.log_first_failure_utc
            - if(near.edge = 'start', run.window_start_utc, run.window_end_utc))
            as log_seconds_from_edge,
        epoch(near.table_created_at_utc
            - if(near.edge = 'start', run.window_start_utc, run.window_end_utc))
            as table_seconds_from_edge,
        epoch(near.log_first_failure_utc - near.table_created_at_utc) as log_minus_table_seconds
    from near
    cross join run
)

select * from final order by edge desc, log_first_failure_utc, table_created_at_utc, txn_id
