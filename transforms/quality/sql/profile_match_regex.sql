-- expect_column_values_to_match_regex as a profile (one row). Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value in which $regex (the
-- suite's Python pattern in RE2 form, `quality/regex.py`) finds no match anywhere.
with breaking as (
    select key_text
    from gate_expectation_rows
    where value is not null and not regexp_matches(value, $regex)
),

offending as (
    select distinct key_text from breaking order by key_text limit $max_offending
),

final as (
    select
        (select count(*) from breaking) as unexpected_count,
        (select coalesce(list(key_text order by key_text), []) from offending) as offending
)

select * from final
