-- An expectation's outcome as a profile (one row): how many rows break it and up to
-- $max_offending of their keys, sorted and distinct. Reads `gate_breaking_rows` (key_text): the
-- rows its kind's statement (`profile_<kind>.sql`) found breaking.
with breaking as (
    select key_text from gate_breaking_rows
),

offending as (
    select distinct key_text from breaking order by key_text limit $max_offending
),

final as (
    select
        (select count(*) from breaking) as unexpected_count,
        (select coalesce(list(key_text order by key_text), []) from offending) as offending
)

select * from final
