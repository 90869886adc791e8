-- expect_column_pair_values_to_be_equal as a profile (one row). Reads `gate_expectation_rows`
-- (key_text, value, value_b). A row with both values null is not checked (as GX). Breaking: the
-- two values differ, or one of them is null.
with breaking as (
    select key_text
    from gate_expectation_rows
    where not (value is null and value_b is null) and value is distinct from value_b
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
