-- Journal entries written before links had kinds: all were plain sha256 links.
update journal set link = 'sha256' where link is null
