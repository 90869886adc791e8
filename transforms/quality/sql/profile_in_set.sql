-- expect_column_values_to_be_in_set: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value not in $value_set.
select key_text
from gate_expectation_rows
where value is not null and not list_contains($value_set, value)
