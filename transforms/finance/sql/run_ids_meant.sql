-- The runs a run id that is not in the warehouse may have meant (key: run_id): the same id in
-- another case, or one that starts or ends with what was given in any case (its time alone, or
-- the inputs' fingerprint after the dash alone), or one what was given holds (pasted with a
-- sentence's period, a hint's backtick or quotes); at most three, the newest first (a run id
-- starts with its UTC start).
select run_id
from runs
where lower(run_id) = lower($given)
    or strpos(lower($given), lower(run_id)) > 0
    or (
        length($given) >= 8
        and (starts_with(lower(run_id), lower($given)) or ends_with(lower(run_id), lower($given)))
    )
order by run_id desc
limit 3
