"""Serving, read-only: support's customer lists, lookups and search by name, their exports, and
the analysts' reads of the warehouse (`support_`, `analysis_` SQL beside it).

May import the shared basics, `finance` (the warehouse) and `quality` (the gate's constants).
"""
