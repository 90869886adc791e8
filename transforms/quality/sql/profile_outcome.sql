-- An expectation's outcome as a profile (one row): how many rows break it and up to
-- $max_offending of their keys, sorted and distinct (`min(distinct key, n)`: the n least). Reads
-- `gate_breaking_rows` (key_text, never null): the rows its kind's statement
-- (`profile_<kind>.sql`) found breaking.
with breaking as (
    select key_text from gate_breaking_rows
),

final as (
    select
        count(*) as unexpected_count,
        coalesce(min(distinct key_text, $max_offending), []) as offending
    from breaking
)

select * from final
