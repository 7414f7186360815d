-- Retention in the database (issue 5, item 5): the retention periods in ONE table, the purge routine that
-- applies them, and its daily schedule with pg_cron where the extension exists (Supabase; not locally).
--
-- private.retention_policy is the single source of the periods: private.run_retention() reads them, and the
-- register's cross-check (compliance/) reads them too, so the privacy policy, the register and what the
-- database actually does cannot drift apart silently.
--
-- What run_retention(now, dry_run) does, step by step (time travel = pass `now`):
--   1. technical_logs (90 days, privacy policy "Technical data (logs) is purged after 90 days"): deletes
--      public.audit_log rows, auth.sessions not used for 90 days, auth.mfa_challenges, settled e-mails of
--      the notification outbox (private.notifications, 0200: sent, delivered, failed or suppressed; queued
--      ones stay), and on real Supabase GoTrue's auth.audit_log_entries (tables looked up by name: the local
--      emulation has no audit_log_entries, and the outbox migration comes after this one).
--   2. resolved_ticket_archive_after (30 days): stamps archived_at on tickets resolved or closed for longer.
--      30 days mirrors the SLA reopening window in practice (a client reopens within weeks, not months);
--      archived tickets stay readable (the policies do not look at archived_at), they only leave queues.
--   3. contract_data_after_contract_end (5 years, privacy policy "duration of the support contract, plus
--      five (5) years after the end of the contract"): for each organization whose contract_end + 5 years
--      has passed, erases the personal data: every client person of the organization is anonymised with
--      private.erase_person() (profile, auth user, their attachments, and their name/e-mail/phone wherever
--      they occur in free text), then all ticket texts of the organization are replaced by a placeholder,
--      its messages, attachments and storage objects are deleted, and its agent assignments removed.
--      KEPT, and why: the organization row (legal name, enterprise number, contract dates: data about a
--      legal person, not personal data (GDPR Recital 14), and the proof of which contract existed when) and
--      the ticket rows without their texts (status, priority, created/first response/resolved/archived
--      timestamps: after the anonymisation nothing links them to a person; they keep the service history and
--      SLA statistics). Accounting law: Belgian bookkeeping and VAT rules (7 to 10 years) bind invoices and
--      their supporting documents; this portal holds no invoices, prices or payments (they live in the
--      accounting system), so no accounting obligation extends the retention of anything here. Caveat: for
--      a sole trader the enterprise number identifies a natural person; it is kept as the contract's legal
--      identifier (legal claims, Art. 17(3)(e)) and listed in docs/data-subject-rights.md.
--      People under an Art. 18 restriction (restricted_at) and their tickets are skipped and reported: their
--      data may only be stored until the restriction is lifted; the organization is then retried next run.
--   4. dsr_records_after_completion (5 years): completed/rejected data-subject requests and their journal
--      (the proof we answered, kept for the limitation period of a complaint or claim), and the journal's
--      refused attempts (unknown subject) of the same age.
-- A dry run performs every step inside a subtransaction that is then rolled back, so its counts are exactly
-- those a real run would report, and nothing changes.
-- Storage bytes: deleting storage.objects rows does not delete the files in Supabase Storage's backend; the
-- service-side sweep (Storage API) removes objects without a metadata row (docs/data-subject-rights.md).

create table private.retention_policy (
    name text primary key check (name ~ '^[a-z][a-z0-9_]*$'),
    period interval not null check (period > interval '0 seconds'),
    description text not null
);

comment on table private.retention_policy is
'Retention periods, one row per category: private.run_retention() enforces them, the register reads them.';

insert into private.retention_policy (name, period, description) values
(
    'technical_logs', interval '90 days',
    'Access log (public.audit_log), inactive auth sessions, MFA challenges and GoTrue audit entries: IP '
    || 'addresses, user agents. Purged after 90 days (privacy policy, "Retention period").'
),
(
    'resolved_ticket_archive_after', interval '30 days',
    'Tickets resolved or closed for this long get archived_at (leave the working queues, stay readable).'
),
(
    'contract_data_after_contract_end', interval '5 years',
    'Personal data of a client organization (people, ticket texts, messages, attachments) is erased this '
    || 'long after its contract_end; the organization and anonymous ticket metadata are kept.'
),
(
    'dsr_records_after_completion', interval '5 years',
    'Completed or rejected data-subject requests and their journal, kept as proof of the answer.'
);

revoke all on private.retention_policy from public, anon, authenticated;
grant select on private.retention_policy to service_role;

-- Marks the organizations whose personal data the retention job has erased (so the job runs once each).
-- Added here rather than in 0004 because the retention job owns it; the API has no column grant on it.
alter table public.organizations add column personal_data_erased_at timestamptz;

comment on column public.organizations.personal_data_erased_at is
'Set by private.run_retention() when the contract-end retention period erased this organization''s people.';

-- The period of a retention category; a missing row is a configuration error, never "keep forever".
create or replace function private.retention_period(p_name text) returns interval
language plpgsql stable
set search_path = ''
as $$
declare
    v_period interval;
begin
    select r.period into v_period from private.retention_policy as r where r.name = p_name;
    if v_period is null then
        raise exception 'retention: no period named % in private.retention_policy', p_name
            using errcode = 'P0002', hint = 'Insert the row (see db/schema/0100_retention.sql).';
    end if;
    return v_period;
end
$$;

create or replace function private.run_retention(
    now timestamptz default now(), dry_run boolean default false
) returns table (step text, affected bigint)
language plpgsql
set search_path = ''
as $$
declare
    v_now constant timestamptz := run_retention.now;
    v_log_cutoff timestamptz := v_now - private.retention_period('technical_logs');
    v_archive_cutoff timestamptz := v_now - private.retention_period('resolved_ticket_archive_after');
    v_contract_period interval := private.retention_period('contract_data_after_contract_end');
    v_dsr_cutoff timestamptz := v_now - private.retention_period('dsr_records_after_completion');
    v_today_brussels date := (v_now at time zone 'Europe/Brussels')::date;
    v_steps text [] := '{}';
    v_counts bigint [] := '{}';
    v_n bigint;
    v_org record;
    v_person record;
    v_erased jsonb;
    v_people bigint := 0;
    v_kept bigint := 0;
    v_orgs bigint := 0;
    v_tickets bigint := 0;
    v_messages bigint := 0;
    v_attachments bigint := 0;
    v_objects bigint := 0;
    v_assignments bigint := 0;
begin
    begin
        -- 1. Technical logs.
        delete from public.audit_log as a where a.created_at < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: public.audit_log'::text;
        v_counts := v_counts || v_n;

        delete from auth.sessions as s
        where greatest(s.created_at, s.updated_at, s.refreshed_at at time zone 'UTC') < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: auth.sessions'::text;
        v_counts := v_counts || v_n;

        delete from auth.mfa_challenges as c where c.created_at < v_log_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'technical_logs: auth.mfa_challenges'::text;
        v_counts := v_counts || v_n;

        -- The e-mail outbox (0200, issue 7) once an e-mail is settled: a delivery log like the others.
        if to_regclass('private.notifications') is not null then
            execute 'delete from private.notifications as n '
                'where n.status in (''sent'', ''delivered'', ''failed'', ''suppressed'') '
                'and coalesce(n.delivered_at, n.sent_at, n.last_attempt_at, n.created_at) < $1'
            using v_log_cutoff;
            get diagnostics v_n = row_count;
            v_steps := v_steps || 'technical_logs: private.notifications'::text;
            v_counts := v_counts || v_n;
        end if;

        if to_regclass('auth.audit_log_entries') is not null then
            execute 'delete from auth.audit_log_entries where created_at < $1' using v_log_cutoff;
            get diagnostics v_n = row_count;
            v_steps := v_steps || 'technical_logs: auth.audit_log_entries'::text;
            v_counts := v_counts || v_n;
        end if;

        -- 2. Archive resolved tickets; a restricted requester's tickets are only stored (Art. 18).
        update public.tickets as t
        set archived_at = v_now
        where
            t.archived_at is null
            and t.status in ('resolved', 'closed')
            and t.resolved_at < v_archive_cutoff
            and not private.is_restricted(t.requester_id);
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'archive: tickets archived'::text;
        v_counts := v_counts || v_n;

        select count(*) into v_n
        from public.tickets as t
        where
            t.archived_at is null
            and t.status in ('resolved', 'closed')
            and t.resolved_at < v_archive_cutoff
            and private.is_restricted(t.requester_id);
        v_steps := v_steps || 'archive: skipped (requester restricted)'::text;
        v_counts := v_counts || v_n;

        -- 3. Organizations whose contract ended more than the retention period ago.
        for v_org in
            select o.id
            from public.organizations as o
            where
                o.contract_end is not null
                and o.personal_data_erased_at is null
                and o.contract_end + v_contract_period <= v_today_brussels
            order by o.contract_end, o.id
        loop
            for v_person in
                select p.id, p.restricted_at is not null as restricted
                from public.profiles as p
                where p.organization_id = v_org.id and p.erased_at is null
                order by p.id
            loop
                if v_person.restricted then
                    v_kept := v_kept + 1;
                else
                    v_erased := private.erase_person(
                        v_person.id, 'retention: contract end + ' || v_contract_period, v_now
                    );
                    v_people := v_people + 1;
                    v_attachments := v_attachments + (v_erased ->> 'attachments_deleted')::bigint;
                    v_objects := v_objects + (v_erased ->> 'storage_objects_deleted')::bigint;
                end if;
            end loop;

            delete from storage.objects as so
            using public.attachments as a
            inner join public.tickets as t on a.ticket_id = t.id
            where
                so.bucket_id = 'attachments'
                and so.name = a.storage_path
                and a.organization_id = v_org.id
                and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_objects := v_objects + v_n;

            delete from public.attachments as a
            using public.tickets as t
            where a.ticket_id = t.id and a.organization_id = v_org.id and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_attachments := v_attachments + v_n;

            delete from public.ticket_messages as m
            using public.tickets as t
            where m.ticket_id = t.id and t.organization_id = v_org.id and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_messages := v_messages + v_n;

            if to_regclass('private.notifications') is not null then
                execute 'delete from private.notifications as n using public.tickets as t '
                    'where n.ticket_id = t.id and t.organization_id = $1 and not private.is_restricted(t.requester_id)'
                using v_org.id;
            end if;

            update public.tickets as t
            set
                subject = '[erased: retention period ended]',
                description = '[erased: retention period ended]'
            where
                t.organization_id = v_org.id
                and t.subject <> '[erased: retention period ended]'
                and not private.is_restricted(t.requester_id);
            get diagnostics v_n = row_count;
            v_tickets := v_tickets + v_n;

            if not exists (
                select from public.profiles as p
                where p.organization_id = v_org.id and p.erased_at is null
            ) then
                delete from public.agent_assignments as aa where aa.organization_id = v_org.id;
                get diagnostics v_n = row_count;
                v_assignments := v_assignments + v_n;
                update public.organizations as o set personal_data_erased_at = v_now where o.id = v_org.id;
                v_orgs := v_orgs + 1;
            end if;
        end loop;

        v_steps := v_steps || array[
            'contract_end: organizations erased',
            'contract_end: people anonymised',
            'contract_end: people kept (restricted)',
            'contract_end: ticket texts erased',
            'contract_end: messages deleted',
            'contract_end: attachments deleted',
            'contract_end: storage objects deleted',
            'contract_end: agent assignments deleted'
        ];
        v_counts := v_counts || array[
            v_orgs, v_people, v_kept, v_tickets, v_messages, v_attachments, v_objects, v_assignments
        ];

        -- 4. Closed data-subject requests past their own retention (the journal follows by cascade).
        delete from public.dsr_requests as r where r.completed_at < v_dsr_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'dsr_records: requests deleted'::text;
        v_counts := v_counts || v_n;

        -- Refused attempts (unknown subject) belong to no request: same period, from the attempt.
        delete from private.dsr_events as e where e.request_id is null and e.created_at < v_dsr_cutoff;
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'dsr_records: refused attempts deleted'::text;
        v_counts := v_counts || v_n;

        if dry_run then
            -- Undo everything this block did; the counts in the variables survive the rollback.
            raise exception 'retention dry run' using errcode = 'NXDRY';
        end if;
    exception when sqlstate 'NXDRY' then
        null;
    end;
    return query select s.step, s.affected from unnest(v_steps, v_counts) as s (step, affected);
end
$$;

comment on function private.run_retention(timestamptz, boolean) is
'Applies private.retention_policy as of `now` (time travel); dry_run reports the same counts, changes nothing.';

revoke all on function private.retention_period(text), private.run_retention(timestamptz, boolean)
from public, anon, authenticated;

-- The daily schedule, only where pg_cron is available (Supabase: enable it in the dashboard or here). Locally
-- the extension does not exist and this block does nothing; `nexk retention run` is the manual trigger.
do $cron$
begin
    if exists (select from pg_catalog.pg_available_extensions as e where e.name = 'pg_cron') then
        create extension if not exists pg_cron;
        perform cron.schedule('nexk-retention', '17 3 * * *', 'select private.run_retention()');
    end if;
end
$cron$;
