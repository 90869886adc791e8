-- Credited transactions for which the gate rejects a policy's run, as the evidence would show
-- them (one row; the evidence is not built by `credits what-if`): `unpriced_transactions`, those
-- of a line owed (payable, or by hand) the policy cannot price (reason `unpriced`, expectation
-- credited_class_priced); `without_amount`, those counted in a line of the credit file whose
-- payment has no amount (a flat basis prices it; expectation credited_has_amount), with the
-- first of them.
with

classified as (
    select * from int_candidates_classified where class_credited
),

lines as (
    select * from int_credit_lines where customer_block is null
),

unpriced as (
    select coalesce(sum(credited_txn_count), 0) as transactions
    from int_credit_lines
    where customer_block is distinct from 'excluded_segment' and credit_amount_minor is null
),

without_amount as (
    select classified.txn_id
    from classified
    inner join lines
        on lines.customer_id is not distinct from classified.customer_id
        and lines.currency is not distinct from classified.currency
    where lines.credit_amount_minor > 0 and classified.amount_minor is null
),

final as (
    select
        (select transactions from unpriced) as unpriced_transactions,
        (select count(*) from without_amount) as without_amount,
        (select min(txn_id) from without_amount) as first_without_amount
)

select * from final
