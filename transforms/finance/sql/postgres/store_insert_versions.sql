-- A copied warehouse's schema versions that the store has not recorded: a store whose tables were
-- made before the copy keeps its own row of a version ({staged}: the staged rows' table; {table},
-- {columns}: identifiers from the schema, never values).
insert into {table} ({columns})
select {columns} from {staged} as staged
where not exists (select 1 from {table} as made where made.version = staged.version)
