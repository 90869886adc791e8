-- expect_column_values_to_be_between as a profile (one row). Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX: missing values). Breaking: a value below
-- $min_value (or equal to it when $strict_min) or above $max_value (or equal when
-- $strict_max); a null bound is no bound. `low` and `high` are the least and greatest value:
-- GX decides on them with the suite's own bounds.
with present as (
    select key_text, value from gate_expectation_rows where value is not null
),

breaking as (
    select key_text
    from present
    where ($min_value is not null and (value < $min_value or ($strict_min and value = $min_value)))
        or ($max_value is not null and (value > $max_value or ($strict_max and value = $max_value)))
),

offending as (
    select distinct key_text from breaking order by key_text limit $max_offending
),

final as (
    select
        (select count(*) from breaking) as unexpected_count,
        (select coalesce(list(key_text order by key_text), []) from offending) as offending,
        (select min(value) from present) as low,
        (select max(value) from present) as high
)

select * from final
