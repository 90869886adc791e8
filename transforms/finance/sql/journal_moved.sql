-- Where the warehouse was moved (`credits warehouse copy`), and when: the newest entry of the
-- journal about a move, if any (grain: one row or none). `moving` is written just before the
-- store commits and `moved` after it did: a copy killed between them leaves `moving`.
select json_extract_string(detail, '$.to') as moved_to, recorded_at, event
from journal
where event in ('moving', 'moved')
order by seq desc
limit 1
