-- expect_column_pair_values_a_to_be_greater_than_b: the rows that break it. Reads
-- `gate_expectation_rows` (key_text, value: A, value_b: B). A row with both values null is not
-- checked (as GX). Breaking: A not above B (nor equal to it when $or_equal), or one of them null.
select key_text
from gate_expectation_rows
where not (value is null and value_b is null)
    and not coalesce(value > value_b or ($or_equal and value = value_b), false)
