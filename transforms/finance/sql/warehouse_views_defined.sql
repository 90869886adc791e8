-- The views the warehouse's own database holds, with their definitions (never a connection's
-- temporary ones, which shadow them: `warehouse_schema.shadow_views`).
select view_name, sql
from duckdb_views()
where not temporary and not internal and database_name = current_database()
order by view_name
