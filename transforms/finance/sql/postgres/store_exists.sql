-- Whether the warehouse's tables are made in this database.
select to_regclass('schema_versions') is not null
