"""Ingest: the incident file, the log files and the transaction and customer tables (files or
Postgres) read into a run's work database (`stg_`, `log_`, `pg_` SQL beside it).

May import the shared basics at the top of `transforms` only.
"""
