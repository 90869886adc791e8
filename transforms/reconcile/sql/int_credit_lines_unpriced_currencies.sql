-- The currencies of credit lines that are owed (payable, or owed to a closed or unknown customer
-- and paid by hand: every block but $unowed_block) but have no base amount (key: currency).
select distinct currency
from int_credit_lines
where customer_block is distinct from $unowed_block and base_amount_minor is null
