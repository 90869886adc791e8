-- The evidence behind the credit file: one row per candidate transaction (key: txn_id) with its
-- class, whether it is credited and why (or why not), and where it was seen. `unpriced`: the
-- policy gives its line no amount (a null or non-ISO currency, a null amount under the percent
-- basis), payable or owed by hand; the gate rejects such a run.
create or replace table evidence as
with

candidates as (
    select * from int_candidates_credited
),

final as (
    select
        candidates.txn_id,
        candidates.class,
        candidates.credited,
        candidates.reason,
        candidates.customer_id,
        candidates.amount_minor,
        candidates.currency,
        array_to_string(candidates.error_codes, ',') as error_codes,
        candidates.first_failure_at,
        candidates.last_failure_at,
        candidates.failure_lines,
        array_to_string(candidates.source_files, ',') as source_files,
        candidates.edge_failure_lines > 0 as edge,
        candidates.table_status,
        candidates.log_customer_id
    from candidates
)

select * from final
