-- This session's tables are the store's schema's ($1; pg_catalog stays searched first): a
-- session setting, kept after the transaction commits.
select pg_catalog.set_config('search_path', pg_catalog.quote_ident($1), false)
