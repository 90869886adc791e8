-- expect_column_values_to_not_be_in_set: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value in $value_set.
select key_text
from gate_expectation_rows
where value is not null and list_contains($value_set, value)
