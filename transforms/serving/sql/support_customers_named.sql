-- The customers whose name matches $typed_name (key: customer_id): each word typed starts a word
-- of a name that a run which passed the quality gate saw for them, compared without case or
-- accents (`jose lop` matches "José López"; `ß` is `ss`); a word is a run of letters and digits,
-- so punctuation and hidden characters only separate words. With the name, e-mail address and
-- country of the newest such run; the first $limit by customer_id, `matched_count` counting all.
with

wanted as (
    select list_filter(
        string_split(
            regexp_replace(
                replace(lower(strip_accents($typed_name)), 'ß', 'ss'), '[^\p{L}\p{N}]+', ' ', 'g'
            ),
            ' '
        ),
        lambda word: word <> ''
    ) as words
),

seen as (
    select
        run_customers.customer_id,
        run_customers.name,
        run_customers.email,
        run_customers.country,
        runs.started_at,
        list_filter(
            string_split(
                regexp_replace(
                    replace(lower(strip_accents(run_customers.name)), 'ß', 'ss'),
                    '[^\p{L}\p{N}]+',
                    ' ',
                    'g'
                ),
                ' '
            ),
            lambda word: word <> ''
        ) as words
    from run_customers
    inner join runs on runs.run_id = run_customers.run_id
    where runs.status <> 'rejected' and run_customers.customer_id is not null
),

matched as (
    select distinct seen.customer_id
    from seen, wanted
    where len(wanted.words) > 0
        and coalesce(
            list_bool_and(
                list_transform(
                    wanted.words,
                    lambda part: list_bool_or(
                        list_transform(seen.words, lambda word: starts_with(word, part))
                    )
                )
            ),
            false
        )
),

newest as (
    select distinct on (seen.customer_id)
        seen.customer_id,
        seen.name,
        seen.email,
        seen.country
    from seen
    inner join matched on matched.customer_id = seen.customer_id
    order by seen.customer_id, seen.started_at desc
),

final as (
    select *, count(*) over () as matched_count from newest
)

select * from final order by customer_id limit $limit
