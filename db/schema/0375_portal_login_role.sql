-- 0375: the portal's own database login, `nexk_portal` (issue 13, finding 2: "the portal's login can become
-- service_role").
--
-- Why: the portal logged in as `authenticator`, PostgREST's login. On Supabase (and in db/compat/supabase.sql)
-- `authenticator` is granted anon, authenticated AND service_role, which has BYPASSRLS, because PostgREST
-- switches to whatever role a valid JWT names. The portal only ever needs anon and authenticated, so one SQL
-- injection on a portal connection could `set role service_role` and read every organization's data.
-- `nexk_portal` is that login without the way out:
--   - LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
--   - a member of anon and authenticated only: `set local role authenticated` (or anon) works, as the portal's
--     request transactions do it (app/database.py); no role that bypasses RLS is reachable, through any chain;
--   - NOINHERIT: the login alone holds no table privilege at all, only after `set role` does it act, and then
--     as the role RLS is written for.
-- The portal checks the same rule in the catalog before it serves a request (app/database.py, UnsafeLoginError)
-- and `nexk rls lint` reports any drift (db/rls/catalog_lint.py, nexk_portal_login_reach).
--
-- No password here: migrations are in git and run on every database, and a password is a secret. Code sets
-- it: on the local cluster db/logins.py (the password generated per cluster, in .nexk/cluster.json, as the
-- authenticator's); on Supabase `pulumi up` (resource portal-role-password, infra/supabase_platform.py, a
-- generated secret that also becomes the Vercel variable NEXK_PORTAL_DATABASE_URL). A role created here has
-- no password, so nobody can log in as it before that.
--
-- On Supabase this runs as `postgres`, which is not a superuser there but has CREATEROLE and holds anon and
-- authenticated WITH ADMIN OPTION (db/README.md, "Roles"), which is what creating and granting take.
do $role$
begin
    -- Roles are cluster-wide: two databases migrated at once (parallel test sessions) must not race.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('nexk.nexk_portal'));
    if not exists (select from pg_catalog.pg_roles as r where r.rolname = 'nexk_portal') then
        create role nexk_portal login noinherit nosuperuser nobypassrls nocreatedb nocreaterole noreplication;
    end if;
    -- Refuse a pre-existing role that breaks the design (fixing its attributes takes a superuser: say so).
    if exists (
        select from pg_catalog.pg_roles as r
        where
            r.rolname = 'nexk_portal'
            and (
                r.rolsuper or r.rolbypassrls or r.rolcreatedb or r.rolcreaterole or r.rolreplication
                or r.rolinherit or not r.rolcanlogin
            )
    ) then
        raise exception 'role nexk_portal exists with attributes it must not have'
        using hint = 'It must be LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION.';
    end if;
end
$role$;

comment on role nexk_portal is
'myNexK portal login: may only set role anon or authenticated (db/schema/0375); never authenticator or service_role.';

grant anon to nexk_portal;
grant authenticated to nexk_portal;

-- Any other membership, granted before this migration ran or by hand, is refused rather than silently revoked:
-- someone meant it, and the portal would refuse to start over it anyway.
do $memberships$
declare
    extra text;
begin
    select pg_catalog.string_agg(pg_catalog.quote_ident(g.rolname), ', ' order by g.rolname)
    into extra
    from pg_catalog.pg_auth_members as m
    inner join pg_catalog.pg_roles as g on m.roleid = g.oid
    where
        m.member = (select r.oid from pg_catalog.pg_roles as r where r.rolname = 'nexk_portal')
        and g.rolname not in ('anon', 'authenticated');
    if extra is not null then
        raise exception 'role nexk_portal is a member of %, besides anon and authenticated', extra
        using hint = format('revoke %s from nexk_portal; the portal may reach anon and authenticated only.', extra);
    end if;
    -- anon and authenticated must not lead further either (Supabase's are members of nothing).
    if exists (
        select from pg_catalog.pg_auth_members as m
        inner join pg_catalog.pg_roles as r on m.member = r.oid
        where r.rolname in ('anon', 'authenticated')
    ) then
        raise exception 'anon or authenticated is a member of another role, which nexk_portal would reach'
        using hint = 'select roleid::regrole, member::regrole from pg_auth_members, and revoke the grant.';
    end if;
end
$memberships$;
