-- A range's profile (one row): the least and greatest value of `gate_expectation_rows` (key_text,
-- value), nulls not counted (as GX). GX decides on them with the suite's own bounds.
select min(value) as low, max(value) as high
from gate_expectation_rows
