"""Reconcile: candidate failures classed, credits computed, and the run's data files (credits,
evidence, exceptions, quarantine) written (`int_` and final SQL beside it).

May import the shared basics and `ingest`.
"""
