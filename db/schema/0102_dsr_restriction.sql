-- Restriction of processing (GDPR Art. 18), enforced by the database: while profiles.restricted_at is set,
-- the person's data "are not subject to further processing operations and cannot be changed" (Recital 67).
-- profiles.restricted_at (0005) is the marker; these triggers are the enforcement, for every role (the API's
-- `authenticated`, `service_role` and the owner alike, since triggers do not care about BYPASSRLS):
--   - the restricted profile cannot be updated or deleted, except to lift the restriction (an UPDATE that
--     changes restricted_at to null and nothing else: Art. 18(3) says the subject is told before lifting);
--   - the tickets they requested cannot be created, updated (status, assignee, archiving) or deleted;
--   - no message or attachment is added by them or to their tickets, and none of theirs is deleted.
-- Reads stay allowed (restricted data is stored, and the subject keeps their right of access).
-- Notifications: the outbox (0200, private.enqueue_notification) already turns every e-mail to a restricted
-- person into a `suppressed` row without address or content, and the guards above stop the events (replies,
-- status changes) that would cause one on their tickets. Agent queues should filter on
-- private.is_restricted(requester_id) (the policies' owner decides how the portal shows them).
-- The DSR functions that must change restricted data (rectification, erasure) lift the marker first, in the
-- same transaction, and set it back where the restriction continues.

-- Definer: it must see every profile, whoever asks; only the guards and the service side call it.
create or replace function private.is_restricted(p_profile_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
    select exists (
        select from public.profiles as p where p.id = p_profile_id and p.restricted_at is not null
    )
$$;

create or replace function private.guard_restricted_profile() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if old.restricted_at is null then
        return coalesce(new, old);
    end if;
    if tg_op = 'UPDATE'
        and new.restricted_at is null
        and to_jsonb(new) - 'restricted_at' - 'updated_at' = to_jsonb(old) - 'restricted_at' - 'updated_at'
    then
        return new;  -- lifting the restriction, and nothing else
    end if;
    raise exception 'profiles: the data of profile % is restricted (GDPR Art. 18) and cannot be changed', old.id
        using errcode = '42501',
        hint = 'Lift the restriction first (private.dsr_restrict(subject, false)), after telling the person.';
end
$$;

create trigger profiles_restriction_guard
before update or delete on public.profiles
for each row execute function private.guard_restricted_profile();

create or replace function private.guard_restricted_ticket() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_requester uuid;
begin
    if tg_op = 'INSERT' then
        v_requester := new.requester_id;
    elsif tg_op = 'UPDATE' and private.is_restricted(new.requester_id) then
        v_requester := new.requester_id;
    else
        v_requester := old.requester_id;
    end if;
    if private.is_restricted(v_requester) then
        raise exception 'tickets: the requester''s data is restricted (GDPR Art. 18): the ticket is read-only'
            using errcode = '42501', hint = 'A NexK admin lifts the restriction (private.dsr_restrict).';
    end if;
    return coalesce(new, old);
end
$$;

create trigger tickets_restriction_guard
before insert or update or delete on public.tickets
for each row execute function private.guard_restricted_ticket();

-- Messages and attachments: the author/uploader and the ticket's requester must not be restricted.
-- The ticket and message guards are definer because the writer may not see the requester's profile.
-- `tg_argv[0]` names the person column (author_id or uploaded_by).
create or replace function private.guard_restricted_ticket_content() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row jsonb := to_jsonb(coalesce(new, old));
    v_person uuid := (v_row ->> tg_argv[0])::uuid;
    v_requester uuid;
begin
    select t.requester_id into v_requester from public.tickets as t where t.id = (v_row ->> 'ticket_id')::uuid;
    if private.is_restricted(v_person) or private.is_restricted(v_requester) then
        raise exception '%: the data of this ticket''s people is restricted (GDPR Art. 18): read-only', tg_table_name
            using errcode = '42501', hint = 'A NexK admin lifts the restriction (private.dsr_restrict).';
    end if;
    return coalesce(new, old);
end
$$;

create trigger ticket_messages_restriction_guard
before insert or delete on public.ticket_messages
for each row execute function private.guard_restricted_ticket_content('author_id');

create trigger attachments_restriction_guard
before insert or delete on public.attachments
for each row execute function private.guard_restricted_ticket_content('uploaded_by');

revoke all on function private.is_restricted(uuid), private.guard_restricted_profile(),
private.guard_restricted_ticket(), private.guard_restricted_ticket_content()
from public, anon, authenticated;
-- The guards are definer functions, so is_restricted() needs no grant to `authenticated` (no oracle).
grant execute on function private.is_restricted(uuid) to service_role;
