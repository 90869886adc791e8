-- The rows of a mirror table whose decision columns this writer changed (key in the server).
select t.* from {table} as t semi join (
    select {key} from (select {key}, {mutable} from {table} except select {key}, {mutable} from {base})
) as changed using ({key})
