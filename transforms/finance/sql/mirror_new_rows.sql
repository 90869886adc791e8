-- The rows of a mirror table whose key the server does not hold yet: what this writer appended.
select t.* from {table} as t anti join {base} as b using ({key})
