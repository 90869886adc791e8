-- A run's work database, read-only, as `work`.
attach $work_db as work (read_only)
