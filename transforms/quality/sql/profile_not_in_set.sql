-- expect_column_values_to_not_be_in_set as a profile (one row). Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value in $value_set.
with breaking as (
    select key_text
    from gate_expectation_rows
    where value is not null and list_contains($value_set, value)
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
