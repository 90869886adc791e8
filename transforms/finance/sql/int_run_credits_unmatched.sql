-- Where run $run_id's credit lines in the warehouse and its sealed credits.csv ($path) differ
-- (grain: side, credit_id; at most 5 rows, none when they agree; a line there twice is a
-- difference: `except all`): what approving pays must be
-- what the run folder shows finance.
with

file_lines as (
    select
        credit_id,
        customer_id,
        currency,
        cast(credit_amount_minor as bigint) as credit_amount_minor
    from read_csv($path, header = true, all_varchar = true)
),

loaded_lines as (
    select credit_id, customer_id, currency, credit_amount_minor
    from run_credits
    where run_id = $run_id
),

only_loaded as (
    select 'warehouse' as side, * from (select * from loaded_lines except all select * from file_lines)
),

only_in_file as (
    select 'credits.csv' as side, * from (select * from file_lines except all select * from loaded_lines)
),

final as (
    select * from only_loaded
    union all
    select * from only_in_file
)

select * from final order by credit_id, side limit 5
