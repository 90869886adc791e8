-- Every candidate transaction in exactly one class (key: txn_id):
--   from the logs, by their error codes and the transaction table:
--     recovered | failed | log_only | unattributable   (outage-caused: any code in $outage_codes)
--     declined              (all codes in $decline_codes)
--     unknown_error_code    (anything else, including a failure line without a code)
--   from the table alone: table_only (failed with an outage code in the window, no failure line).
-- Customer, amount and currency come from the table when the row exists, else from the logs,
-- whose lines must agree: lines naming two customers, amounts or currencies make the payment
-- unattributable (`log_disagreement` says which), never credited on a guess. Where the table's
-- row exists, the log's other customers (`customer_mismatch`) and amounts or currencies
-- (`log_amount_mismatch`, what the log says) are recorded for finance; the table wins. So is an
-- outage code the table's row gives a payment whose log codes hold none (`table_outage_code`):
-- the log's codes still decide the class.
-- Both import CTEs are `not materialized`: each is read twice, and DuckDB would otherwise copy
-- them first (for the transaction table, every row: more memory and time than the join itself).
create or replace table int_candidates_classified as
with

candidates as not materialized (
    select * from int_candidates
),

transactions as not materialized (
    select * from stg_transactions
),

matched as (
    select
        candidates.*,
        transactions.txn_id is not null as in_table,
        transactions.customer_id as table_customer_id,
        transactions.amount_minor as table_amount_minor,
        transactions.currency as table_currency,
        transactions.status as table_status,
        transactions.error_code as table_error_code,
        list_has_any(candidates.error_codes, $outage_codes) as is_outage,
        nullif(concat_ws(
            '; ',
            case when len(candidates.log_customer_ids) > 1
                then 'customer_id ' || array_to_string(list_transform(
                    candidates.log_customer_ids, lambda c: text_shown(c, $ascii_space, $hidden)
                ), ',') end,
            case when len(candidates.log_amounts) > 1
                then 'amount_minor ' || array_to_string(candidates.log_amounts, ',') end,
            case when len(candidates.log_currencies) > 1
                then 'currency ' || array_to_string(candidates.log_currencies, ',') end
        ), '') as log_disagreement
    from candidates
    left join transactions on transactions.txn_id = candidates.txn_id
),

from_logs as (
    select
        txn_id,
        case
            when is_outage and in_table and table_status = 'succeeded' then 'recovered'
            when is_outage and in_table then 'failed'
            when is_outage and log_customer_id is not null and log_amount_minor is not null
                and log_currency is not null and log_disagreement is null then 'log_only'
            when is_outage then 'unattributable'
            when len(error_codes) > 0 and lines_without_code = 0
                and list_has_all($decline_codes, error_codes) then 'declined'
            else 'unknown_error_code'
        end as class,
        -- from the logs, a value only where its lines agree: never one line's amount in
        -- another's currency
        case
            when in_table then table_customer_id
            when len(log_customer_ids) <= 1 then log_customer_id
        end as customer_id,
        case
            when in_table then table_amount_minor
            when len(log_amounts) <= 1 then log_amount_minor
        end as amount_minor,
        case
            when in_table then table_currency
            when len(log_currencies) <= 1 then log_currency
        end as currency,
        -- the earliest customer the lines name, none when they name two (a disputed value)
        case when len(log_customer_ids) <= 1 then log_customer_id end as log_customer_id,
        log_customer_ids,
        table_status,
        -- The log says every customer its lines name: any of them not the table's is a mismatch,
        -- whatever the class (a declined or unknown code too: finance may pay that by hand).
        in_table and len(
            list_filter(log_customer_ids, lambda c: c is distinct from table_customer_id)
        ) > 0 as customer_mismatch,
        -- So do the amounts and currencies its lines name: any not the table's is shown (the
        -- table wins, as for the customer), whatever the class: a percent credit is priced on
        -- the table's amount, and finance sees when the service logged another.
        case when in_table and (
            len(list_filter(log_amounts, lambda a: a is distinct from table_amount_minor)) > 0
            or len(list_filter(log_currencies, lambda c: c is distinct from table_currency)) > 0
        ) then concat_ws(
            ' ',
            case when len(log_amounts) > 0
                then 'amount_minor ' || array_to_string(log_amounts, ',') end,
            case when len(log_currencies) > 0
                then 'currency ' || array_to_string(log_currencies, ',') end
        ) end as log_amount_mismatch,
        -- The table's failed row may say the outage where the log's lines say a decline or a
        -- code in neither list: the log decides (declined, unknown_error_code), and finance
        -- sees the table's code (without the log line it was a table_only).
        -- Only a row still failed: a succeeded retry may keep an earlier attempt's code.
        case when in_table and is_outage is not true and table_status = 'failed'
            and list_contains($outage_codes, table_error_code)
            then table_error_code end as table_outage_code,
        error_codes,
        first_failure_at,
        last_failure_at,
        failure_lines,
        source_files,
        edge_failure_lines,
        case when not in_table then log_disagreement end as log_disagreement,
        -- what makes an unknown_error_code one, for its exception's detail: its codes in
        -- neither list, and its lines without a code
        list_filter(
            error_codes,
            lambda c: not list_contains($outage_codes, c) and not list_contains($decline_codes, c)
        ) as unlisted_error_codes,
        lines_without_code
    from matched
),

from_table_only as (
    select
        transactions.txn_id,
        'table_only' as class,
        transactions.customer_id,
        transactions.amount_minor,
        transactions.currency,
        null as log_customer_id,
        cast([] as varchar[]) as log_customer_ids,
        transactions.status as table_status,
        false as customer_mismatch,
        null as log_amount_mismatch,
        null as table_outage_code,
        [transactions.error_code] as error_codes,
        cast(null as timestamptz) as first_failure_at,
        cast(null as timestamptz) as last_failure_at,
        0 as failure_lines,
        cast([] as varchar[]) as source_files,
        0 as edge_failure_lines,
        null as log_disagreement,
        cast([] as varchar[]) as unlisted_error_codes,
        0 as lines_without_code
    from transactions
    where transactions.status = 'failed'
        and list_contains($outage_codes, transactions.error_code)
        and transactions.created_at >= $window_start
        and transactions.created_at < $window_end
        and not exists (select 1 from candidates where candidates.txn_id = transactions.txn_id)
),

unioned as (
    select * from from_logs
    union all
    select * from from_table_only
),

final as (
    select
        *,
        case class
            when 'recovered' then $credit_recovered
            when 'failed' then true
            when 'log_only' then true
            when 'table_only' then $credit_table_only
            else false
        end as class_credited
    from unioned
)

select * from final
