-- expect_column_pair_values_to_be_equal: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value, value_b). A row with both values null is not checked (as GX). Breaking: the
-- two values differ, or one of them is null.
select key_text
from gate_expectation_rows
where not (value is null and value_b is null) and value is distinct from value_b
