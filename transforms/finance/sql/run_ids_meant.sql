-- The runs a run id that is not in the warehouse may have meant (key: run_id): the same id in
-- another case, or one that starts or ends with what was given (its time alone, or the inputs'
-- fingerprint after the dash alone); at most three.
select run_id
from runs
where lower(run_id) = lower($given)
    or (length($given) >= 8 and (starts_with(run_id, $given) or ends_with(run_id, $given)))
order by run_id
limit 3
