"""Reconcile: candidate failures classed, credits computed, and the run's data files (credits,
evidence, exceptions, quarantine) written (`int_` and final SQL beside it); the outage window
found in the logs and compared with the declared one (`window`, `window_compare`).

May import the shared basics and `ingest`.
"""
