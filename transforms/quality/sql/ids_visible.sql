-- Each id of $ids (key: txn_id) without the characters no one sees ($hidden,
-- `values.HIDDEN_CHARACTER`: a control, format, line or paragraph separator, a space other than
-- U+0020): what a look-alike is drawn with (`lookalikes.skeleton`).
select txn_id, regexp_replace(txn_id, $hidden, '', 'g') as visible
from (select distinct unnest($ids) as txn_id)
