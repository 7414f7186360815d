-- Retention: the nightly purge (private.run_retention) of what compliance/retention.yaml keeps for a time.

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
revoke all on function private.retention_period(text) from public;

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

        -- The e-mail outbox (0200) once an e-mail is settled: a delivery log like the others.
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
                    v_objects := v_objects + (v_erased ->> 'storage_objects_queued')::bigint;
                end if;
            end loop;

            -- The files' bytes go through the Storage API: queued here for the storage sweeper (0270).
            insert into private.storage_deletions (bucket_id, name, reason)
            select so.bucket_id, so.name, 'retention: contract end'
            from storage.objects as so
            inner join public.attachments as a on so.bucket_id = 'attachments' and so.name = a.storage_path
            inner join public.tickets as t on a.ticket_id = t.id
            where a.organization_id = v_org.id and not private.is_restricted(t.requester_id)
            on conflict (bucket_id, name) do nothing;
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
            'contract_end: storage objects queued for deletion',
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

        -- 5. The storage deletion queue forgets the objects the sweeper has deleted (their rows are gone).
        delete from private.storage_deletions as q
        where not exists (
            select from storage.objects as so where so.bucket_id = q.bucket_id and so.name = q.name
        );
        get diagnostics v_n = row_count;
        v_steps := v_steps || 'storage: deletions confirmed and forgotten'::text;
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
revoke all on function private.run_retention(timestamptz, boolean) from public;
