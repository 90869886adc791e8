-- Whether this session may make the roles and grant on the tables (`store_roles.sql`): it can
-- make roles (or is a superuser) and owns the tables (or is a member of their owner).
select (rolsuper or rolcreaterole)
    and pg_has_role(current_user, (select tableowner from pg_tables where tablename = 'runs'
        and schemaname = current_schema()), 'USAGE')
from pg_roles
where rolname = current_user
