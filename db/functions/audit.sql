-- The audit trail: row changes, access log entries (record_read) and the ticket activity built from them.
-- nexk: after access.sql

-- The ticket columns whose new values the log keeps.
create or replace function private.write_audit_entry(
    p_action text, p_object_table text, p_object_id uuid, p_changed_columns text[], p_new_values jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_headers jsonb;
    v_ip inet;
begin
    begin
        v_headers := nullif(current_setting('request.headers', true), '')::jsonb;
        v_ip := nullif(trim(split_part(v_headers ->> 'x-forwarded-for', ',', 1)), '')::inet;
    exception when invalid_text_representation then
        v_ip := null;
    end;
    insert into public.audit_log (
        actor_id, jwt_role, action, object_table, object_id, ip, user_agent, changed_columns, new_values
    )
    values (
        (select auth.uid()), (select auth.role()), p_action, p_object_table, p_object_id, v_ip,
        left(v_headers ->> 'user-agent', 512), p_changed_columns, p_new_values
    );
end
$$;
revoke all on function private.write_audit_entry(text, text, uuid, text[], jsonb) from public;

-- The four-argument entry point (record_read, sign-ins, the DSR and invitation functions) is unchanged.
create or replace function private.write_audit_entry(
    p_action text, p_object_table text, p_object_id uuid, p_changed_columns text[]
) returns void
language sql
security definer
set search_path = ''
as $$
    select private.write_audit_entry(p_action, p_object_table, p_object_id, p_changed_columns, null::jsonb)
$$;
revoke all on function private.write_audit_entry(text, text, uuid, text[]) from public;

create or replace function private.audit_row_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_changed text[];
    v_values jsonb;
begin
    if tg_op = 'UPDATE' then
        select array_agg(n.key order by n.key) into v_changed
        from jsonb_each(to_jsonb(new)) as n
        inner join jsonb_each(to_jsonb(old)) as o on n.key = o.key
        where n.value is distinct from o.value and n.key <> 'updated_at';
        if tg_table_name = 'tickets' then
            select jsonb_object_agg(n.key, n.value) into v_values
            from jsonb_each(to_jsonb(new)) as n
            where n.key = any(v_changed) and n.key in ('status', 'priority', 'assignee_id');
        end if;
    end if;
    perform private.write_audit_entry(
        lower(tg_op),
        tg_table_name,
        case when tg_op = 'DELETE' then (to_jsonb(old) ->> 'id')::uuid else (to_jsonb(new) ->> 'id')::uuid end,
        v_changed,
        v_values
    );
    return null;
end
$$;
revoke all on function private.audit_row_change() from public;

create or replace function private.ticket_activity(p_ticket uuid)
returns table (
    at timestamptz, actor_id uuid, kind text, changes jsonb, attachment_id uuid, file_name text
)
language sql stable security definer
set search_path = ''
as $$
    with ticket as (
        -- The tickets SELECT rule (db/policies/tickets.sql) and tickets_staff_need_mfa, restated.
        select t.id
        from public.tickets as t
        where
            t.id = p_ticket
            and (not (select private.is_staff()) or (select private.has_mfa()))
            and t.organization_id = any(array(select private.ticket_org_ids()))
            and (
                t.requester_id = (select auth.uid())
                or (select private.sees_all_org_tickets())
                or (select private.is_staff())
            )
    )
    select l.created_at, l.actor_id, 'opened', null::jsonb, null::uuid, null::text
    from public.audit_log as l
    inner join ticket as t on l.object_id = t.id
    where l.object_table = 'tickets' and l.action = 'insert'
    union all
    select l.created_at, l.actor_id, 'changed', l.new_values, null::uuid, null::text
    from public.audit_log as l
    inner join ticket as t on l.object_id = t.id
    where
        l.object_table = 'tickets'
        and l.action = 'update'
        and l.new_values is not null
        and l.new_values <> '{}'::jsonb
    union all
    -- The attachments SELECT rule: a client sees no file of an internal note.
    select l.created_at, l.actor_id, 'attachment', null::jsonb, a.id, a.file_name
    from public.attachments as a
    inner join ticket as t on a.ticket_id = t.id
    inner join public.audit_log as l on l.object_table = 'attachments' and l.object_id = a.id
    where l.action = 'insert' and (not a.internal or (select private.is_staff()))
    order by 1, 3
$$;
revoke all on function private.ticket_activity(uuid) from public;
grant execute on function private.ticket_activity(uuid) to authenticated;

-- 0361: private.record_read checks its caller: only an active, signed-in person (staff at aal2) who sees
-- the ticket writes an entry.
--
-- Why: 0010's record_read wrote an audit entry for whatever table and id it was given, for any
-- `authenticated` token: a stranger, an erased or deactivated person, staff at aal1, even a token without
-- `sub` could write "read" rows about any tenant's ticket (false evidence in the GDPR access log, and a way to
-- flood it). A definer bypasses the policies, so it now checks what db/policies/README.md §6 says:
--   - the caller is an active portal user, and staff are at aal2 (private.require_self_service(), 0210:
--     42501 without `sub`, without an active profile, or staff below aal2);
--   - the object is a ticket or an attachment (22023 otherwise: the portal logs nothing else);
--   - the caller can read it: the ticket is visible (the tickets_select condition of db/policies/tickets.sql,
--     with the same helpers), an attachment's ticket is visible and, for clients, the file is not internal
--     (attachments_select). Otherwise 42501, the same whether the id exists or not (no existence oracle).
create or replace function private.record_read(p_object_table text, p_object_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_ticket_id uuid;
    v_internal boolean := false;
begin
    perform private.require_self_service();
    if p_object_table = 'tickets' then
        v_ticket_id := p_object_id;
    elsif p_object_table = 'attachments' then
        select a.ticket_id, a.internal into v_ticket_id, v_internal
        from public.attachments as a
        where a.id = p_object_id;
    else
        raise exception 'record_read logs reads of tickets and attachments, not of %', p_object_table
            using errcode = '22023';
    end if;
    -- Two probes by primary key, each the tickets_select / attachments_select condition.
    if
        v_internal and not (select private.is_staff())
        or not exists (
            select
            from public.tickets as t
            where
                t.id = v_ticket_id
                and t.organization_id = any(array(select private.ticket_org_ids()))
                and (
                    t.requester_id = (select auth.uid())
                    or (select private.sees_all_org_tickets())
                    or (select private.is_staff())
                )
        )
    then
        raise exception 'nothing to log: the caller cannot read % %', p_object_table, p_object_id
            using errcode = '42501';
    end if;
    perform private.write_audit_entry('read', p_object_table, p_object_id, null);
end
$$;
revoke all on function private.record_read(text, uuid) from public;
grant execute on function private.record_read(text, uuid) to authenticated;
