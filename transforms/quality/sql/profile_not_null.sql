-- expect_column_values_to_not_be_null as a profile (one row). Reads `gate_expectation_rows`
-- (key_text, value): the rows the expectation's row condition keeps. Breaking: a null value.
with breaking as (
    select key_text from gate_expectation_rows where value is null
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
