-- The columns of a PostgreSQL source, to check them against the column contract before any row
-- is read: this statement is only described (prepared), never executed. `{relation}` is the
-- source's table name (a validated identifier) or its query as a subquery.
select * from {relation} as source
