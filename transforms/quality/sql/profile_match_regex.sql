-- expect_column_values_to_match_regex: the rows that break it. Reads `gate_expectation_rows`
-- (key_text, value). Nulls are not checked (as GX). Breaking: a value in which $regex (the
-- suite's Python pattern in RE2 form, `quality/regex.py`) finds no match anywhere.
select key_text
from gate_expectation_rows
where value is not null and not regexp_matches(value, $regex)
