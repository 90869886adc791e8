-- Candidate transactions found in the logs (key: txn_id): the distinct txn_ids of the candidate
-- failure lines, with the set of their error codes and what the lines say about the payment
-- (the earliest non-null value of each field, by time then file then line), and every customer,
-- amount and currency its lines name (`log_customer_ids`, `log_amounts`, `log_currencies`, sorted).
-- `edge_failure_lines`: its lines within the clock skew of a window edge, for a human to review.
create or replace table int_candidates as
with

failures as (
    select * from stg_failures
),

files as (
    select file_id, name from log_files
),

final as (
    select
        failures.txn_id,
        list_sort(list(distinct failures.error_code) filter (where failures.error_code is not null))
            as error_codes,
        count(*) filter (where failures.error_code is null) as lines_without_code,
        count(*) as failure_lines,
        count(*) filter (where failures.is_edge) as edge_failure_lines,
        min(failures.ts_utc) as first_failure_at,
        max(failures.ts_utc) as last_failure_at,
        first(failures.customer_id order by failures.ts_utc, failures.file_id, failures.line)
            filter (where failures.customer_id is not null) as log_customer_id,
        list_sort(list(distinct failures.customer_id) filter (where failures.customer_id is not null))
            as log_customer_ids,
        first(failures.amount_minor order by failures.ts_utc, failures.file_id, failures.line)
            filter (where failures.amount_minor is not null) as log_amount_minor,
        first(failures.currency order by failures.ts_utc, failures.file_id, failures.line)
            filter (where failures.currency is not null) as log_currency,
        list_sort(list(distinct failures.amount_minor) filter (where failures.amount_minor is not null))
            as log_amounts,
        list_sort(list(distinct failures.currency) filter (where failures.currency is not null))
            as log_currencies,
        list_sort(list(distinct files.name)) as source_files
    from failures
    inner join files on files.file_id = failures.file_id
    group by failures.txn_id
)

select * from final
