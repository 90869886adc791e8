-- The customers whose name matches $typed_name (key: customer_id): each word typed starts a word
-- of a name that a sealed run which passed the quality gate saw for them (pending_approval,
-- published or declined: never a run still `sealing`, nor a rejected one), compared without
-- case or accents (`jose lop` matches "José López"; `ß` is `ss`); a word is a run of letters and
-- digits, so punctuation and hidden characters only separate words. With $typos > 0, a typed word
-- of 4 letters or more also matches the start of a word that many typos away (a letter wrong,
-- missing, extra, or two swapped: `jose lopes`, `feilx`): suggestions, never an answer. With the name, e-mail
-- address and country of the newest such run, in the order the warehouse saw runs start (the
-- journal's, as `runs_ordered`; not by clocks); the first $limit by customer_id,
-- `matched_count` counting all.
with

texts as (
    -- the name typed and the names the runs saw, split into words in one place (`worded`)
    select true as is_typed, $typed_name as text
    union all by name
    select
        false as is_typed,
        run_customers.name as text,
        run_customers.customer_id,
        run_customers.name,
        run_customers.email,
        run_customers.country,
        runs.started_seq,
        runs.started_at,
        runs.run_id
    from run_customers
    inner join runs_ordered as runs on runs.run_id = run_customers.run_id
    where runs.status in ('pending_approval', 'published', 'declined')
        and run_customers.customer_id is not null
),

worded as (
    select
        *,
        list_filter(
            string_split(
                regexp_replace(
                    replace(lower(strip_accents(text)), 'ß', 'ss'), '[^\p{L}\p{N}]+', ' ', 'g'
                ),
                ' '
            ),
            lambda word: word <> ''
        ) as words
    from texts
),

wanted as (
    select words from worded where is_typed
),

seen as (
    select * from worded where not is_typed
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
                        list_transform(
                            seen.words,
                            lambda word: starts_with(word, part) or (
                                $typos > 0
                                and length(part) >= 4
                                and regexp_full_match(part, '\p{L}+')
                                and damerau_levenshtein(left(word, length(part)), part) <= $typos
                            )
                        )
                    )
                )
            ),
            false
        )
),

newest as (
    -- across incidents, so by the journal's sequence itself (`newness` counts within one)
    select distinct on (seen.customer_id)
        seen.customer_id,
        seen.name,
        seen.email,
        seen.country
    from seen
    inner join matched on matched.customer_id = seen.customer_id
    order by
        seen.customer_id,
        seen.started_seq desc nulls last,
        seen.started_at desc,
        seen.run_id desc
),

final as (
    select *, count(*) over () as matched_count from newest
)

select * from final order by customer_id limit $limit
