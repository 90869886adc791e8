-- The runs the journal saw start and the warehouse holds no row of (grain: run_id), newest
-- first: running now, or stopped before their results were loaded (killed), which can never be
-- approved (`run_started_unrecorded.sql` is approval's check of one). A null $incident_id
-- means every incident.
select
    journal.run_id,
    journal.incident_id,
    journal.recorded_at as started_at
from journal
where
    journal.event = 'started'
    and ($incident_id is null or journal.incident_id = $incident_id)
    and not exists (select 1 from runs where runs.run_id = journal.run_id)
order by journal.seq desc
