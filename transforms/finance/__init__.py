"""Finance, after a run: the warehouse, the ledger and its batches, the audit journal, the
outbox, the proof, and what a run would change before it is approved (`diff`)."""
