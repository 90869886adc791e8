-- A schema version made (key: version).
insert into schema_versions (version, upgraded_at) values ($1, now())
