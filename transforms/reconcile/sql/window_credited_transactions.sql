-- The transactions a window credits (key: txn_id): those counted in a line of the credit file.
select txn_id
from evidence
where credited
order by txn_id
