-- A strptime `ts_format` tried on DuckDB's reader before a run: a pattern it cannot read (`%Q`,
-- `%s`, a trailing `%`) raises here, where the incident file is read, not mid-staging.
select try_strptime('', $pattern)
