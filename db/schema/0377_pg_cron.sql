-- 0377: pg_cron always, and the project's jobs always scheduled (issue 14, "Retention that provably runs").
--
-- Why: the baseline (0100, 0280) and 0373 scheduled their jobs only `if pg_cron is available`, and did nothing
-- otherwise, so a database could miss its nightly retention purge (the privacy policy's 90-day log purge and
-- contract + 5 years erasure) without anyone being told. From here on, migrating a database that can not run
-- the jobs fails, and every migrated database holds them in cron.job:
--   - on Supabase, pg_cron is one of the available extensions and the project owner `postgres` may create it;
--     Supabase's documentation (guides/cron/install) enables it with exactly the statements below, in schema
--     pg_catalog (pg_cron.control: `schema = pg_catalog`, not relocatable; its objects live in schema `cron`).
--     The Pulumi program creates it too, before the migrations run (infra/providers/database_extension.py,
--     so a stack declares it and `pulumi refresh` sees it disabled); here it is a no-op then, and it still
--     makes `nexk db migrate` against a Supabase branch database self-sufficient;
--   - locally, the compatibility layer (db/compat/supabase.sql, last section) has created pg_cron's catalogue
--     and marked its schema: nothing to create, the jobs are scheduled into the emulation;
--   - anywhere else (no pg_cron, no emulation) `create extension` fails and so does the migration: loudly.
-- cron.schedule upserts by job name, so the jobs the baseline and 0373 already scheduled on Supabase keep their
-- ids and run history. The names, schedules and commands are the contract nexk/cron_jobs.py states for
-- `nexk retention status`, the Pulumi program and the policy pack (db/tests/test_cron.py compares them).
do $pg_cron$
begin
    if not exists (
        select from pg_catalog.pg_namespace as n
        where
            n.nspname = 'cron'
            and pg_catalog.obj_description(n.oid, 'pg_namespace')
            = 'nexk: Supabase compatibility layer (emulated pg_cron catalogue)'
    ) then
        create extension if not exists pg_cron with schema pg_catalog;
        -- The two grants Supabase's install guide runs right after enabling it, so `postgres` reads the
        -- run log and manages the jobs whichever role Supabase created the extension as.
        grant usage on schema cron to postgres;
        grant all privileges on all tables in schema cron to postgres;
    end if;
end
$pg_cron$;

-- The nightly retention purge (db/functions/retention.sql): logs after 90 days, archive, contract-end erasure.
select cron.schedule('nexk-retention', '17 3 * * *', 'select private.run_retention()');
-- Invitations nobody accepted, 30 days after they expired (db/functions/invitations.sql).
select cron.schedule('nexk-invitations-purge', '23 3 * * *', 'select private.purge_expired_invitations()');
-- Attempt counters whose window ended (db/functions/rate_limits.sql), every quarter of an hour.
select cron.schedule('nexk-rate-limits-purge', '*/15 * * * *', 'select private.purge_expired_rate_limits()');
