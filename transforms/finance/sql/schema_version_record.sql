-- A schema upgrade done (key: version).
insert into schema_versions (version, upgraded_at) values ($version, $at)
