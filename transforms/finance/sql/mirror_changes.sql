-- How far a mirror table moved from {base}, what the server held at the writer's last send: keys
-- lost (nothing ever deletes, so none may be) and keys new (what this writer appended). A send
-- asks it of every table in one query, these joined by `union all` ({table}, {base}, {key}:
-- identifiers from the schema, never values).
select
    '{table}' as table_name,
    (select count(*) from {base} as b anti join {table} as t using ({key})) as lost_rows,
    (select count(*) from {table} as t anti join {base} as b using ({key})) as new_rows
