-- expect_column_values_to_be_unique and expect_compound_columns_to_be_unique: the rows that
-- break it. Reads `gate_expectation_rows` (key_text, value: the column, or a row of the
-- columns, null when every part is null). A null value is not checked (as GX). Breaking: every
-- row whose value another row has too (the first of them included, as GX); a null part of a
-- compound value equals another null part (as pandas' `duplicated`).
with repeated as (
    select value
    from gate_expectation_rows
    where value is not null
    group by value
    having count(*) > 1
),

final as (
    select gate_expectation_rows.key_text
    from gate_expectation_rows
    semi join repeated on gate_expectation_rows.value is not distinct from repeated.value
    where gate_expectation_rows.value is not null
)

select * from final
