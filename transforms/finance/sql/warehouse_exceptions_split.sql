-- Version 3, step 1 of 2: an exception's amount_minor into the column of its meaning: the credit
-- owed for a credit line's exception (unknown_customer, closed_account, zero_credit), the failed
-- payment's amount for a transaction's (unknown_error_code, unattributable, customer_mismatch).
update run_exceptions
set
    credit_owed_minor = case
        when exception in ('unknown_customer', 'closed_account', 'zero_credit') then amount_minor
    end,
    failed_amount_minor = case
        when exception in ('unknown_customer', 'closed_account', 'zero_credit') then null
        else amount_minor
    end
where credit_owed_minor is null and failed_amount_minor is null
