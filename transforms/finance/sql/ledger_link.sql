-- Links for entries written before the ledger was chained, from the Arrow table `arrow_rows`
-- (key: entry_id): plain sha256 links.
update ledger
set seq = links.seq, prev_hash = links.prev_hash, hash = links.hash, link = 'sha256'
from arrow_rows as links
where ledger.entry_id = links.entry_id
