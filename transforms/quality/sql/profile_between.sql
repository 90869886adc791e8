-- expect_column_values_to_be_between: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value below $min_value (or equal
-- to it when $strict_min) or above $max_value (or equal when $strict_max); a null bound is no
-- bound. GX decides on the least and greatest value (`profile_range`) with the suite's bounds.
select key_text
from gate_expectation_rows
where value is not null
    and (
        ($min_value is not null and (value < $min_value or ($strict_min and value = $min_value)))
        or ($max_value is not null and (value > $max_value or ($strict_max and value = $max_value)))
    )
