-- Where run $run_id's credit lines in the warehouse and its sealed credits.csv ($path) differ
-- (grain: side, credit_id; at most 5 rows, none when they agree; a line there twice is a
-- difference: `except all`): what approving pays must be
-- what the run folder shows finance. A file written $guarded shows a customer id that starts
-- like a formula (its first character one of $formula_starts, and not a $plain_number) with a
-- leading `'` (transforms/spreadsheet.py): the warehouse's id is compared as so written.
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
    select
        credit_id,
        case
            when $guarded
                and list_contains($formula_starts, left(customer_id, 1))
                and not regexp_full_match(customer_id, $plain_number)
                then '''' || customer_id
            else customer_id
        end as customer_id,
        currency,
        credit_amount_minor
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
