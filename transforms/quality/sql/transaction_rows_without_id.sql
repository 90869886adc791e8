-- Transaction table rows without a txn_id, null or blank ($not_blank: the RE2 form of
-- `txn_id_not_blank`'s pattern; the id is staged trimmed, so one of white space alone is ''),
-- wherever created and whatever their status: such a row cannot be matched to a log line and
-- could be any candidate's payment (a retry that went through, the table's own failure). At
-- most one row: how many, and the first (by created_at, customer) with what finds it in the
-- table, since it has no key to name it by.
with

missing as (
    select customer_id, amount_minor, currency, status, created_at
    from stg_transactions
    where txn_id is null or not regexp_matches(txn_id, $not_blank)
),

final as (
    select count(*) over () as rows_without_id, *
    from missing
    order by created_at nulls first, customer_id nulls first, amount_minor nulls first
    limit 1
)

select * from final
