-- Credited transactions a policy cannot price: those of a payable line without an amount, which
-- the evidence calls `unpriced` and the gate rejects (expectation credited_class_priced).
select coalesce(sum(credited_txn_count), 0) as unpriced_transactions
from int_credit_lines
where customer_block is null and credit_amount_minor is null
