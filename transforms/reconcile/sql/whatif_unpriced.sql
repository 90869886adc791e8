-- Candidate transactions a policy credits but cannot price: the gate rejects such a run
-- (expectation credited_class_priced on the evidence).
select count(*) as unpriced_transactions
from evidence
where reason = 'unpriced'
