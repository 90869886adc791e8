-- The newest journal entry's seq and hash.
select seq, hash from journal order by seq desc limit 1
