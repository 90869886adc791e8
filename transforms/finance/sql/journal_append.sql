-- One journal entry (key: seq).
insert into journal (
    seq, recorded_at, incident_id, run_id, event, actor, detail, prev_hash, hash, link
)
values (
    $seq, $recorded_at, $incident_id, $run_id, $event, $actor, $detail, $prev_hash, $hash, $link
)
