-- The warehouse's catalog in one digest: every table's and view's columns (type, default,
-- nullability), every view's name, every constraint, and the schema version recorded. Two equal
-- digests: a writer's upgrade (`warehouse_schema.upgrade`) would do to the one what it did to the
-- other. A view's text is left out: DuckDB writes an EXCLUDE list back in any order.
with columns as (
    select concat_ws(
        '|', 'column', table_name, column_name, data_type, column_default, is_nullable
    ) as item
    from duckdb_columns()
    where database_name = current_database() and schema_name = 'main'
),

views as (
    select concat_ws('|', 'view', view_name) as item
    from duckdb_views()
    where database_name = current_database() and schema_name = 'main'
),

constraints as (
    select concat_ws(
        '|', 'constraint', table_name, constraint_type, constraint_column_names::varchar
    ) as item
    from duckdb_constraints()
    where database_name = current_database() and schema_name = 'main'
),

versions as (
    select concat_ws('|', 'version', max(version)) as item
    from schema_versions
),

final as (
    select sha256(string_agg(item, chr(10) order by item)) as digest
    from (
        select item from columns
        union all
        select item from views
        union all
        select item from constraints
        union all
        select item from versions
    )
)

select * from final
