-- Whether the warehouse has the views this version reads (`runs_ordered`, `paid_customers` and
-- `listed_by_hand`, added within schema version 3): a file an earlier build made has them once
-- a writer has opened it.
select count(distinct view_name) = 3
from duckdb_views()
where view_name in ('runs_ordered', 'paid_customers', 'listed_by_hand')
