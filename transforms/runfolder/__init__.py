"""The run folder: starting a run, its manifest (written last), publishing its files and the
run report.

May import the shared basics, `ingest`, `reconcile` and `quality`; never `finance` or `serving`.
"""
