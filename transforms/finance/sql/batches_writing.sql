-- Batches whose ledger entries are committed but whose files a crash left unfinished.
select * from batches where state = 'writing' order by batch_id
