-- The report's top exceptions: of each kind, the $per_kind with the largest amounts (amounts
-- compared within a kind only as a rough order; grain: one exception row, as in exceptions.csv).
select
    exception,
    customer_id,
    currency,
    txn_id,
    txn_count,
    credit_owed_minor,
    failed_amount_minor,
    detail
from exceptions
qualify row_number() over (
    partition by exception
    order by coalesce(credit_owed_minor, failed_amount_minor) desc nulls last,
        customer_id, currency, txn_id
) <= $per_kind
order by
    exception,
    coalesce(credit_owed_minor, failed_amount_minor) desc nulls last,
    customer_id,
    currency,
    txn_id
