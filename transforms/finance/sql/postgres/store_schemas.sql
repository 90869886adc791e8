-- The schemas of this database that hold a warehouse (its runs, ledger, journal and
-- schema_versions), `public` first: the store is found there whatever search_path the login, the
-- database or the URL sets (a login's own schema first, "$user", PostgreSQL's secure pattern, made
-- a store that no other login saw, and a second one beside it).
select namespaces.nspname
from pg_catalog.pg_class as tables
inner join pg_catalog.pg_namespace as namespaces on tables.relnamespace = namespaces.oid
where tables.relname in ('runs', 'ledger', 'journal', 'schema_versions')
    and tables.relkind in ('r', 'p')
    and namespaces.nspname not like 'pg\_temp\_%'
group by namespaces.nspname
having pg_catalog.count(distinct tables.relname) = 4
order by namespaces.nspname <> 'public', namespaces.nspname
