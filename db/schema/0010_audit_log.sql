-- The access log promised by the privacy policy ("access logging"): who did what to which object, when,
-- from which IP and user agent. Append-only: only the security-definer functions below write it (the API
-- roles have no INSERT/UPDATE/DELETE privilege), UPDATE is refused for every role, and only the retention
-- job (service role; technical data is purged after 90 days, hence the created_at index) deletes.
-- actor_id has no foreign key on purpose: the log outlives the accounts it mentions.
create table public.audit_log (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    actor_id uuid,
    -- The JWT role claim of the request ('authenticated', 'service_role'), null for direct SQL sessions.
    jwt_role text,
    action text not null check (action in ('insert', 'update', 'delete', 'read')),
    object_table text not null check (object_table ~ '^[a-z_][a-z0-9_]*$'),
    object_id uuid,
    ip inet,
    user_agent text check (length(user_agent) <= 512),
    -- For updates: the names (never the values) of the columns that changed.
    changed_columns text[]
);

create index audit_log_created_at_idx on public.audit_log (created_at);
create index audit_log_actor_id_idx on public.audit_log (actor_id);
create index audit_log_object_idx on public.audit_log (object_table, object_id);

create trigger audit_log_append_only
before update on public.audit_log
for each row execute function private.refuse_update();

-- Writes one entry for the current request. IP and user agent come from the headers PostgREST puts in
-- request.headers (the first X-Forwarded-For hop); a malformed address is logged as null, never an error.
create or replace function private.write_audit_entry(
    p_action text, p_object_table text, p_object_id uuid, p_changed_columns text[]
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
    insert into public.audit_log (actor_id, jwt_role, action, object_table, object_id, ip, user_agent, changed_columns)
    values (
        (select auth.uid()), (select auth.role()), p_action, p_object_table, p_object_id, v_ip,
        left(v_headers ->> 'user-agent', 512), p_changed_columns
    );
end
$$;

-- Row trigger for the audited tables (every table carrying personal data or ticket content).
create or replace function private.audit_row_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_changed text[];
begin
    if tg_op = 'UPDATE' then
        select array_agg(n.key order by n.key) into v_changed
        from jsonb_each(to_jsonb(new)) as n
        inner join jsonb_each(to_jsonb(old)) as o on n.key = o.key
        where n.value is distinct from o.value and n.key <> 'updated_at';
    end if;
    perform private.write_audit_entry(
        lower(tg_op),
        tg_table_name,
        case when tg_op = 'DELETE' then (to_jsonb(old) ->> 'id')::uuid else (to_jsonb(new) ->> 'id')::uuid end,
        v_changed
    );
    return null;
end
$$;

-- Reads are logged by the data-access layer of the app, for the caller itself only.
create or replace function private.record_read(p_object_table text, p_object_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
    select private.write_audit_entry('read', p_object_table, p_object_id, null)
$$;

revoke all on function private.write_audit_entry(text, text, uuid, text[]), private.audit_row_change(),
private.record_read(text, uuid) from public;
grant execute on function private.record_read(text, uuid) to authenticated;

create trigger organizations_audit after insert or update or delete on public.organizations
for each row execute function private.audit_row_change();
create trigger profiles_audit after insert or update or delete on public.profiles
for each row execute function private.audit_row_change();
create trigger agent_assignments_audit after insert or update or delete on public.agent_assignments
for each row execute function private.audit_row_change();
create trigger tickets_audit after insert or update or delete on public.tickets
for each row execute function private.audit_row_change();
create trigger ticket_messages_audit after insert or update or delete on public.ticket_messages
for each row execute function private.audit_row_change();
create trigger attachments_audit after insert or update or delete on public.attachments
for each row execute function private.audit_row_change();

alter table public.audit_log enable row level security;
alter table public.audit_log force row level security;
revoke all on public.audit_log from anon, authenticated;
