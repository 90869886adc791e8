-- The newest schema version of a PostgreSQL warehouse (its tables made: see store_exists).
select max(version) from schema_versions
