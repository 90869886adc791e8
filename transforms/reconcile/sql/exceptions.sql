-- What finance must look at by hand (key: exception, customer_id, currency, txn_id): candidate
-- transactions that cannot be classified or attributed, log/table disagreements (per
-- transaction: `failed_amount_minor` is the failed payment's amount), and credit lines that are
-- owed but not payable (per customer and currency: `credit_owed_minor` is what the policy would
-- pay). The other amount column is null.
create or replace table exceptions as
with

classified as (
    select * from int_candidates_classified
),

-- A log code as a detail shows it (`text_shown`: `''`, `' UPSTREAM_TIMEOUT'`, `'X' (holds
-- U+200B)`). The unlisted codes are some of `error_codes`, in order: each shown as its first
-- place there is.
codes_shown as (
    select
        *,
        list_transform(
            unlisted_error_codes,
            lambda c: error_codes_shown[list_position(error_codes, c)]
        ) as unlisted_error_codes_shown
    from (
        select
            *,
            list_transform(
                error_codes, lambda c: text_shown(c, $ascii_space, $hidden)
            ) as error_codes_shown
        from classified
    )
),

lines as (
    select * from int_credit_lines
),

-- An unknown customer whose id the customer table holds with white space at its ends or a
-- control, format or space character inside (U+00A0, U+200B): ids compare exactly, and the
-- difference does not show. Each such id once, with the difference of the first customer-table
-- id (in order) that stands for it: its first hidden character, else its white space at the
-- ends (`arg_min_null`: `arg_min` would skip an id without a hidden character).
held_otherwise as (
    select
        stripped as unknown_id,
        coalesce(
            'U+' || printf('%04X', unicode(arg_min_null(hidden_character, customer_id))),
            'white space at its ends'
        ) as difference
    from (
        select
            customer_id,
            nullif(regexp_extract(trimmed, $hidden), '')
                as hidden_character,
            regexp_replace(trimmed, $hidden, '', 'g')
                as stripped
        from (
            select
                customer_id,
                trim(customer_id, $ascii_space) as trimmed
            from stg_customers
        )
        where trimmed <> customer_id
            or regexp_matches(trimmed, $hidden)
    )
    where stripped in (select customer_id from lines where customer_block = 'unknown_customer')
    group by stripped
),

-- An unknown customer whose id the customer table holds in another case or with other leading
-- zeros in its numbers (`C1`, `c001` for `c1`): ids compare exactly, so it stays an unknown
-- customer (whether the two are one customer is finance's to find, docs/gate.md), but its detail
-- names the table's id, the first in order, how it differs, and how many more there are. The
-- fold: lower case, and each number's leading zeros dropped (`cus_0000012` is `cus_12`). No
-- unknown customer, no customer id folded.
unknown_ids as (
    select distinct
        customer_id as unknown_id,
        lower(zeros_dropped(customer_id)) as folded
    from lines
    where customer_block = 'unknown_customer'
),

held_near as (
    select
        unknown_ids.unknown_id,
        min(customers.customer_id) as near_id,
        count(*) as near_ids
    from unknown_ids
    inner join (
        select
            customer_id,
            lower(zeros_dropped(customer_id)) as folded
        from stg_customers
        where exists (select 1 from unknown_ids)
    ) as customers
        on customers.folded = unknown_ids.folded
        and customers.customer_id <> unknown_ids.unknown_id
    group by unknown_ids.unknown_id
),

held_near_shown as (
    select
        unknown_id,
        '; the customer table has ''' || near_id || ''' (differs in ' || case
            when lower(near_id) = lower(unknown_id) then 'case'
            when zeros_dropped(near_id) = zeros_dropped(unknown_id) then 'leading zeros'
            else 'case and leading zeros'
        end || ')' || case when near_ids > 1 then ' and ' || (near_ids - 1) || ' more' else '' end
            as hint
    from held_near
),

per_transaction as (
    select
        class as exception,
        customer_id,
        currency,
        txn_id,
        1 as txn_count,
        null::bigint as credit_owed_minor,
        amount_minor as failed_amount_minor,
        case class
            -- values the log lines disagree on are left out (int_candidates_classified): say so
            when 'unknown_error_code' then 'error codes not in either policy list: '
                || coalesce(nullif(array_to_string(unlisted_error_codes_shown, ','), ''), '(none)')
                || case when lines_without_code > 0
                    then '; ' || lines_without_code || ' failure line(s) without an error code'
                    else ''
                end
                || coalesce(
                    '; its log lines disagree on ' || log_disagreement
                        || ': finance finds the payment',
                    ''
                )
            -- without a disagreement, each field left null is one the lines lack: named, so
            -- finance knows which to look for
            else 'outage failure not in the transaction table and its log lines '
                || coalesce(
                    'disagree on ' || log_disagreement || ': finance finds the payment',
                    'lack ' || concat_ws(
                        ', ',
                        case when customer_id is null then 'customer_id' end,
                        case when amount_minor is null then 'amount_minor' end,
                        case when currency is null then 'currency' end
                    )
                )
        end as detail
    from codes_shown
    where class in ('unknown_error_code', 'unattributable')
    union all
    select
        'customer_mismatch',
        customer_id,
        currency,
        txn_id,
        1,
        null::bigint,
        amount_minor,
        'log says customer ' || array_to_string(
            list_transform(log_customer_ids, lambda c: text_shown(c, $ascii_space, $hidden)), ','
        ) || ', the table says '
            || coalesce(customer_id, '(none)') || '; the table wins'
    from classified
    where customer_mismatch
    union all
    select
        'amount_mismatch',
        customer_id,
        currency,
        txn_id,
        1,
        null::bigint,
        amount_minor,
        'log says ' || log_amount_mismatch || ', the table says amount_minor '
            || coalesce(cast(amount_minor as varchar), '(none)') || ' currency '
            || coalesce(currency, '(none)') || '; the table wins'
    from classified
    where log_amount_mismatch is not null
    union all
    select
        'code_mismatch',
        customer_id,
        currency,
        txn_id,
        1,
        null::bigint,
        amount_minor,
        'log says ' || coalesce(nullif(array_to_string(error_codes_shown, ','), ''), 'no code')
            || ', the table says ' || table_outage_code || ', an outage code; the log''s codes '
            || 'decide: ' || class || ', not credited; finance checks whether the outage caused it'
    from codes_shown
    where table_outage_code is not null
),

per_line as (
    select
        coalesce(customer_block, 'zero_credit') as exception,
        customer_id,
        currency,
        null as txn_id,
        credited_txn_count as txn_count,
        credit_amount_minor as credit_owed_minor,
        null::bigint as failed_amount_minor,
        case coalesce(customer_block, 'zero_credit')
            when 'unknown_customer' then 'customer is not in the customer table' || coalesce(
                '; the table holds this id with ' || held_otherwise.difference
                    || ', which ids never match',
                ''
            ) || coalesce(held_near_shown.hint, '') || coalesce(
                -- a log line's customer_id is read as written, a hidden character and all
                '; its id holds U+' || printf('%04X', unicode(nullif(regexp_extract(
                    trim(lines.customer_id, $ascii_space),
                    $hidden
                ), ''))) || ', which ids never match',
                ''
            ) || case
                when lines.customer_id <> trim(lines.customer_id, $ascii_space)
                    then '; its id has white space at its ends, which ids never match'
                else ''
            end
            when 'closed_account' then 'account is closed: pay by hand'
            else 'the policy works this credit out to zero (its flat amount, percent or cap): nothing is paid'
        end as detail
    from lines
    left join held_otherwise
        on lines.customer_block = 'unknown_customer'
        and held_otherwise.unknown_id = lines.customer_id
    left join held_near_shown
        on lines.customer_block = 'unknown_customer'
        and held_near_shown.unknown_id = lines.customer_id
    where customer_block in ('unknown_customer', 'closed_account')
        or (customer_block is null and credit_amount_minor <= 0)
),

final as (
    select $incident_id as incident_id, * from per_transaction
    union all
    select $incident_id as incident_id, * from per_line
)

select * from final
