-- expect_column_pair_values_a_to_be_greater_than_b as a profile (one row). Reads
-- `gate_expectation_rows` (key_text, value: A, value_b: B). A row with both values null is not
-- checked (as GX). Breaking: A not above B (nor equal to it when $or_equal), or one of them null.
with breaking as (
    select key_text
    from gate_expectation_rows
    where not (value is null and value_b is null)
        and not coalesce(value > value_b or ($or_equal and value = value_b), false)
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
