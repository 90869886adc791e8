-- Whether the pipeline's and finance's roles (`store_roles.sql`) are made and granted in this
-- database: its newest grant is there.
select to_regrole('credits_runner') is not null
    and to_regrole('credits_approver') is not null
    and has_column_privilege('credits_approver', 'batches', 'state', 'UPDATE')
    and has_table_privilege('credits_runner', 'runs', 'INSERT')
    and has_schema_privilege('credits_runner', current_schema(), 'USAGE')
    and has_schema_privilege('credits_approver', current_schema(), 'USAGE')
