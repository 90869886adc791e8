-- What this login may do on the store (`pg_store.Privileges`), before a command starts: whether
-- the tables are made; whether it may make roles (a fresh store's first run makes them, and
-- PostgreSQL asks for CREATEROLE even where they exist); whether it may read, add a run
-- (credits_runner), or pay (credits_approver); which of the store's roles it is a member of;
-- whether the owner has granted those roles on this store yet (`store_roles_made.sql`: a
-- store made before them is granted by its owner's next writing command); and whether it may
-- make temporary tables in this database, where every writer stages the rows it sends (ADBC's
-- bulk COPY), which `revoke temporary on database ... from public` takes away from every role;
-- and whether its transactions are read-only (`default_transaction_read_only` set on the
-- database or the role, or a hot standby), where no writer can commit anything; and whether it
-- may make the tables of a new store in its schema (`public`: PostgreSQL 15 gives CREATE there to
-- the database's owner only).
-- Null-safe: a role or a table that is not there is false, never an error.
select
    to_regclass('runs') is not null as made,
    coalesce((select rolsuper or rolcreaterole from pg_roles where rolname = current_user), false)
        as may_make_roles,
    -- every command reads every table (the mirror): one grant revoked stops them all
    coalesce((
        select bool_and(coalesce(has_table_privilege(current_user, to_regclass(name), 'SELECT'),
            false))
        from unnest(array['runs', 'evidence', 'run_credits', 'run_exceptions', 'run_customers',
            'run_failure_minutes', 'run_edge_transactions', 'batches', 'batch_exceptions',
            'batch_pay_by_hand', 'ledger', 'journal', 'schema_versions']) as tables (name)
    ), false) as may_read,
    coalesce(has_table_privilege(current_user, to_regclass('runs'), 'INSERT'), false) as may_run,
    coalesce(has_table_privilege(current_user, to_regclass('ledger'), 'INSERT'), false)
        and coalesce(has_table_privilege(current_user, to_regclass('batches'), 'INSERT'), false)
        as may_decide,
    coalesce(pg_has_role(current_user, to_regrole('credits_runner'), 'MEMBER'), false) as runner,
    coalesce(pg_has_role(current_user, to_regrole('credits_approver'), 'MEMBER'), false)
        as approver,
    coalesce(pg_has_role(current_user, to_regrole('credits_writer'), 'MEMBER'), false) as writer,
    coalesce(
        has_column_privilege(to_regrole('credits_approver'), to_regclass('batches'), 'state',
            'UPDATE')
        and has_table_privilege(to_regrole('credits_runner'), to_regclass('runs'), 'INSERT'),
        false
    ) as granted,
    has_database_privilege(current_user, current_database(), 'TEMPORARY') as may_stage,
    pg_catalog.current_setting('transaction_read_only') = 'on' or pg_catalog.pg_is_in_recovery()
        as read_only,
    coalesce(pg_catalog.has_schema_privilege(pg_catalog.current_schema(), 'CREATE'), false)
        as may_make_tables
