-- The transaction-table rows this run used (key: txn_id): those of the candidate transactions,
-- any row without a txn_id, null or blank ($not_blank: the RE2 form of `txn_id_not_blank`'s
-- pattern, so the rows it refuses are here; such a row could be the row of any candidate,
-- whatever its time or status: the gate must see it, a blank id as a null one), any
-- row without a created_at whose status is not `succeeded` (it could be a table-only failure of
-- the window, left out unseen; a payment that went through never is, and old rows without a
-- time would reject every run), and
-- any row created inside the window whose status is not one the classification knows
-- ($known_statuses): a `FAILED` row there would be left out of the table-only candidates unseen.
select transactions.*
from stg_transactions as transactions
where transactions.txn_id in (select txn_id from int_candidates_classified)
    or transactions.txn_id is null
    or not regexp_matches(transactions.txn_id, $not_blank)
    or (transactions.created_at is null and transactions.status is distinct from 'succeeded')
    or (
        transactions.created_at >= $window_start
        and transactions.created_at < $window_end
        and (transactions.status is null or not list_contains($known_statuses, transactions.status))
    )
order by transactions.txn_id
