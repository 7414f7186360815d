-- The activity timeline of a ticket (who opened it, changed its status, priority or assignee, added a file,
-- and when), built from the access log (0010) rather than from a second history table, and readable through
-- one narrow function (db/policies/README.md §6, "Ticket activity"):
--
-- 1. public.audit_log.new_values: the log keeps the NAMES of changed columns, never values, which is right
--    for personal data. A ticket's workflow columns are not personal content, and a history that says
--    "status changed" without saying to what is of no use to the client or the agent, so for `update` entries
--    of `tickets` only, the new values of status, priority and assignee_id that changed are kept (jsonb). Every
--    other table and column stays names-only (private.audit_row_change below).
-- 2. private.ticket_activity(p_ticket): the audit_log SELECT rule shows a caller only their own entries, and
--    its rows carry the actor's IP and user agent. This security definer answers, for a ticket the caller sees
--    (the tickets SELECT rule restated, with the staff MFA rule: a definer does not get RLS), its `opened`,
--    `changed` (status, priority, assignee) and `attachment` events, oldest first, with the actor's id and
--    never the IP, user agent or any `read` entry. Attachments follow the attachments SELECT rule: a client
--    never sees the file of an internal note. Nothing (no error) for a ticket the caller does not see.

alter table public.audit_log add column new_values jsonb;
comment on column public.audit_log.new_values is
'For update entries of tickets only: the new values of the changed workflow columns (status, priority, '
'assignee_id). Null elsewhere: the log keeps column names, never values, of personal data.';

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

revoke all on function private.write_audit_entry(text, text, uuid, text[], jsonb) from public;
revoke all on function private.write_audit_entry(text, text, uuid, text[]) from public;

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

revoke all on function private.ticket_activity(uuid) from public, anon;
grant execute on function private.ticket_activity(uuid) to authenticated;
