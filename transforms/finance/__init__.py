"""Finance, after a run: the warehouse, sealing a run into it, the ledger and its batches, the
audit journal and its hash chains, the outbox and the proof (`wh_`, `batch_`, `journal_`,
`ledger_`, `runs_` SQL beside it).

May import the shared basics and `runfolder` (a run and its manifest); never `serving`.
"""
