-- A batch's payment entries at once, from the Arrow table `arrow_rows` (key: entry_id), their
-- instant given in microseconds since 1970 UTC; the check constraint refuses amounts <= 0.
insert into ledger by name
select
    * exclude (published_at_us),
    make_timestamptz(published_at_us) as published_at
from arrow_rows
