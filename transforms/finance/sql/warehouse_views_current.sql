-- Whether the warehouse has the views this version reads (`runs_ordered`, added within schema
-- version 3): a file an earlier build made has them once a writer has opened it.
select count(*) > 0 from duckdb_views() where view_name = 'runs_ordered'
