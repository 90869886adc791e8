-- The newest schema version the warehouse was upgraded to (null: none recorded).
select max(version) from schema_versions
