-- 0360: the API roles lose every table privilege that is not row access, and TEMP (issue 13, finding 1).
--
-- Why: RLS governs SELECT, INSERT, UPDATE and DELETE only. Whoever holds the other table privileges can do
-- harm no policy sees: TRUNCATE empties a table past RLS and past Storage's delete guard; TRIGGER attaches
-- code that then runs as whoever writes the table next (an attack as `authenticated` put a trigger with a
-- pg_temp function on storage.objects, which ran as the superuser on the next upload and leaked another
-- tenant's ticket subjects and JWT claims through pg_notify); REFERENCES lets a foreign key from the
-- caller's own table probe keys or block deletes; MAINTAIN (PostgreSQL 17) allows VACUUM FULL, CLUSTER,
-- REINDEX and LOCK TABLE on it. db/policies/README.md §4: none of them goes to `anon` or `authenticated`.
-- TEMP is what creates pg_temp functions (the attack's vehicle) and temporary tables; the portal uses
-- neither, so the API roles, and the logins that can become them, lose it.
--
-- What the project owner may revoke differs on hosted Supabase (db/README.md, "API roles and table
-- privileges"): tables owned by a platform role (storage.*, auth.*) are revoked only where the migration
-- runs as a member of the owner (locally: the superuser); anything left is reported as a WARNING here, and
-- `nexk rls lint --database-url ...` fails on it (rules nexk_api_role_table_privilege and
-- nexk_api_role_temp).

-- Every relation anon or authenticated holds one of these privileges on, in any schema (directly, through
-- PUBLIC, or through a role they inherit from).
do $revoke_table_privileges$
declare
    privileges text[] := array['truncate', 'references', 'trigger']
        || case when current_setting('server_version_num')::int >= 170000 then array['maintain'] else '{}' end;
    target record;
    left_over text[];
begin
    for target in
        select c.oid::regclass::text as name, c.relowner
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where
            c.relkind in ('r', 'p', 'v', 'm', 'f')
            and n.nspname not in ('pg_catalog', 'information_schema')
            and n.nspname not like 'pg\_%'
            and exists (
                select from unnest(privileges) as p (privilege)
                cross join unnest(array['anon', 'authenticated']) as r (role_name)
                where pg_catalog.has_table_privilege(r.role_name, c.oid, p.privilege)
            )
    loop
        -- REVOKE removes only the grants made by the role it runs as (or, for a member of the owner, by the
        -- owner): elsewhere it would silently do nothing, so it is not even attempted.
        if pg_catalog.pg_has_role(current_user, target.relowner, 'usage') then
            execute format(
                'revoke %s on table %s from public, anon, authenticated',
                array_to_string(privileges, ', '),
                target.name
            );
        end if;
    end loop;

    select coalesce(array_agg(c.oid::regclass::text order by c.oid::regclass::text), '{}')
    into left_over
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where
        c.relkind in ('r', 'p', 'v', 'm', 'f')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg\_%'
        and exists (
            select from unnest(privileges) as p (privilege)
            cross join unnest(array['anon', 'authenticated']) as r (role_name)
            where pg_catalog.has_table_privilege(r.role_name, c.oid, p.privilege)
        );
    if cardinality(left_over) > 0 then
        raise warning 'anon or authenticated still hold one of % on: %', privileges, left_over
        using hint = 'Only their owner (a Supabase platform role for storage.* and auth.*) can revoke these; '
        || 'see db/README.md, "API roles and table privileges".';
    end if;
end
$revoke_table_privileges$;

-- Tables this project creates later in public start without them too (Supabase's default privileges grant
-- ALL on new tables to the API roles; the policy files revoke and re-grant, this covers a forgotten one).
alter default privileges in schema public revoke truncate, references, trigger on tables from anon, authenticated;

do $revoke_default_maintain$
begin
    if current_setting('server_version_num')::int >= 170000 then
        execute 'alter default privileges in schema public revoke maintain on tables from anon, authenticated';
    end if;
end
$revoke_default_maintain$;

-- TEMP comes from PUBLIC. Supabase's platform roles (supabase/postgres init scripts and migrations) keep it
-- by name; nobody else gets it back: not anon, authenticated, authenticator, nor this project's logins (the
-- portal's, nexk_notifier, the storage sweeper), none of which uses a temporary object. Only the database's
-- owner may change this; elsewhere a WARNING says so.
do $revoke_temp$
declare
    platform_role text;
begin
    if not pg_catalog.pg_has_role(
        current_user,
        (select d.datdba from pg_catalog.pg_database as d where d.datname = current_database()),
        'usage'
    ) then
        raise warning 'TEMP on database % is left as it is: only its owner may revoke it', current_database()
        using hint = 'See db/README.md, "API roles and table privileges".';
        return;
    end if;
    for platform_role in
        select r.rolname
        from pg_catalog.pg_roles as r
        where r.rolname in (
            'postgres', 'service_role', 'dashboard_user', 'pgbouncer', 'supabase_admin',
            'supabase_auth_admin', 'supabase_storage_admin', 'supabase_functions_admin',
            'supabase_realtime_admin', 'supabase_replication_admin', 'supabase_read_only_user',
            'supabase_etl_admin'
        )
    loop
        execute format('grant temporary on database %I to %I', current_database(), platform_role);
    end loop;
    execute format('revoke temporary on database %I from public, anon, authenticated', current_database());
end
$revoke_temp$;
