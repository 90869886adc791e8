-- A new batch, state writing until its files are in the outbox (key: batch_id), with the journal
-- head and the ledger head its trailer records.
insert into batches (
    batch_id, incident_id, run_id, kind, row_count, totals_minor, entry_hash, policy_version,
    folder, state, approved_by, created_at, journal_head, ledger_head
)
values (
    $batch_id, $incident_id, $run_id, $kind, $row_count, $totals_minor, $entry_hash,
    $policy_version, $folder, 'writing', $approved_by, $created_at, $journal_head, $ledger_head
)
