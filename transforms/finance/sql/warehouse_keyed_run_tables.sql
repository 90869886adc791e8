-- Constraints on the per-run tables beyond NOT NULL on run_id and incident_id (key: one row per
-- constraint): a warehouse made before those tables dropped their keys has some.
select table_name, constraint_type, constraint_column_names
from duckdb_constraints()
where database_name = current_database()
    and schema_name = 'main'
    and table_name in (
        'evidence', 'run_credits', 'run_exceptions', 'run_customers', 'run_failure_minutes',
        'run_edge_transactions'
    )
    and not (
        constraint_type = 'NOT NULL'
        and constraint_column_names in (['run_id'], ['incident_id'])
    )
order by all
