-- Credited transactions for which the gate rejects a policy's run, as the evidence would show
-- them (one row; the evidence is not built by `credits what-if`, but both read
-- int_candidates_credited): `unpriced_transactions`, those of a line owed (payable, or by hand)
-- the policy cannot price (reason `unpriced`, expectation credited_class_priced);
-- `without_amount`, those counted in a line of the credit file whose payment has no amount (a
-- flat basis prices it; expectation credited_has_amount), with the first of them.
with

candidates as (
    select * from int_candidates_credited
),

unpriced as (
    select count(*) as transactions
    from candidates
    where reason = 'unpriced'
),

without_amount as (
    select txn_id
    from candidates
    where credited and amount_minor is null
),

final as (
    select
        (select transactions from unpriced) as unpriced_transactions,
        (select count(*) from without_amount) as without_amount,
        (select min(txn_id) from without_amount) as first_without_amount
)

select * from final
