-- expect_column_values_to_be_unique and expect_compound_columns_to_be_unique as a profile (one
-- row). Reads `gate_expectation_rows` (key_text, value: the column, or a row of the columns,
-- null when every part is null). A null value is not checked (as GX). Breaking: every row
-- whose value another row has too (the first of them included, as GX); a null part of a
-- compound value equals another null part (as pandas' `duplicated`).
with repeated as (
    select value
    from gate_expectation_rows
    where value is not null
    group by value
    having count(*) > 1
),

breaking as (
    select gate_expectation_rows.key_text
    from gate_expectation_rows
    semi join repeated on gate_expectation_rows.value is not distinct from repeated.value
    where gate_expectation_rows.value is not null
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
