-- What was pasted as an id ($pasted: a customer's id, an e-mail address, a payment's id) without
-- the characters no one sees, wherever they are ($hidden, `values.HIDDEN_CHARACTER`: a
-- zero-width space, a byte-order mark, a no-break space, a tab...), and without blanks around it.
select trim(regexp_replace($pasted, $hidden, '', 'g')) as pasted
