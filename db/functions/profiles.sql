-- Profiles: agent assignments, the profile guards (columns per caller; erased profiles immutable), and the
-- display names a caller may read.
-- nexk: after access.sql

-- Only agents are assigned (admins see every organization anyway, clients never are).
create or replace function private.check_agent_assignment() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select from public.profiles as p where p.id = new.agent_id and p.role = 'agent') then
        raise exception 'agent_assignments: profile % is not an agent', new.agent_id
            using errcode = '23514', hint = 'Give the profile the agent role before assigning it.';
    end if;
    return new;
end
$$;
revoke all on function private.check_agent_assignment() from public;

-- Column grants (db/policies/profiles.sql) let `authenticated` update the privileged columns at all only
-- because admins need them; this guard narrows them per caller: a user edits only their own personal
-- fields and preferences; a client admin edits colleagues' names, position, phone, client role and
-- deactivation, never their organization, email, preferences or a staff role. Admins are unrestricted.
-- Calls private.current_app_role() (0006) at run time. Service jobs and definer functions are trusted.
create or replace function private.guard_profile_update() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    caller_role text := private.current_app_role();
begin
    if current_user <> 'authenticated' or caller_role = 'admin' then
        return new;
    end if;
    if new.id = (select auth.uid()) then
        if new.role is distinct from old.role
            or new.organization_id is distinct from old.organization_id
            or new.email is distinct from old.email
            or new.restricted_at is distinct from old.restricted_at
            or new.deactivated_at is distinct from old.deactivated_at
        then
            raise exception 'profiles: you may change only your own name, position, phone and preferences'
                using errcode = '42501';
        end if;
        return new;
    end if;
    if caller_role = 'client_admin' then
        if new.organization_id is distinct from old.organization_id
            or new.email is distinct from old.email
            or new.restricted_at is distinct from old.restricted_at
            or new.language is distinct from old.language
            or new.theme is distinct from old.theme
            or new.notify_ticket_replies is distinct from old.notify_ticket_replies
            or new.notify_status_changes is distinct from old.notify_status_changes
            or new.notify_sla_alerts is distinct from old.notify_sla_alerts
            or new.role not in ('client_member', 'client_admin')
        then
            raise exception 'profiles: a client admin may change a member''s name, position, phone, '
                'client role (client_member or client_admin) and deactivation only'
                using errcode = '42501';
        end if;
        return new;
    end if;
    raise exception 'profiles: you may change only your own profile' using errcode = '42501';
end
$$;
revoke all on function private.guard_profile_update() from public;

-- Who is helping me? Clients saw every agent's reply signed "Someone": private.display_names (0310) named no
-- staff for a client. From this release a client also learns the FIRST NAME (no surname, no other column) of
-- the NexK staff who worked on a ticket the client sees: the ticket's assignee, or the author of one of its
-- public messages (never of an internal note only). Any other agent stays unnamed (db/policies/README.md §6).
--
-- "A ticket the client sees" restates the tickets SELECT rule for a client (§2 "visible ticket"), because a
-- security definer does not get it from RLS: the client's organization, and the requester or a caller who
-- sees all of the organization's tickets (client admin, member of a sharing organization). Everything else is
-- 0310 unchanged: one row per nameable id among p_ids, nothing for strangers or staff below aal2.
create or replace function private.display_names(p_ids uuid[])
returns table (id uuid, name text)
language sql stable security definer
set search_path = ''
as $$
    select
        p.id,
        case
            when (select private.is_client()) and p.role in ('agent', 'admin') then p.first_name
            else p.first_name || ' ' || p.surname
        end
    from public.profiles as p
    where
        p.id = any(p_ids)
        -- The restrictive profiles_staff_need_mfa rule, which a definer does not get from RLS.
        and (not (select private.is_staff()) or (select private.has_mfa()))
        and (
            ((select private.current_app_role()) is not null and p.id = (select auth.uid()))
            or p.organization_id = (select private.current_org_id())
            or p.organization_id = any(array(select private.agent_org_ids()))
            or ((select private.current_app_role()) = 'agent' and p.role in ('agent', 'admin'))
            or (select private.is_admin())
            or (
                (select private.is_client())
                and p.role in ('agent', 'admin')
                and exists (
                    select 1
                    from public.tickets as t
                    where
                        t.organization_id = (select private.current_org_id())
                        and (t.requester_id = (select auth.uid()) or (select private.sees_all_org_tickets()))
                        and (
                            t.assignee_id = p.id
                            or exists (
                                select 1
                                from public.ticket_messages as m
                                where m.ticket_id = t.id and m.author_id = p.id and not m.internal
                            )
                        )
                )
            )
        )
$$;
revoke all on function private.display_names(uuid[]) from public;
grant execute on function private.display_names(uuid[]) to authenticated;

-- Which of the people a page names are NexK staff, so that a staff message carries the "NexK support" badge
-- and is styled apart from the client's own (a client reads no staff profile row). Answers only ids
-- private.display_names answers the caller (staff a client may name worked on their tickets; agents and
-- admins read those profiles anyway): no oracle about anyone else.
create or replace function private.staff_among(p_ids uuid[])
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
    select n.id
    from private.display_names(p_ids) as n
    inner join public.profiles as p on n.id = p.id
    where p.role in ('agent', 'admin')
$$;
revoke all on function private.staff_among(uuid[]) from public;
grant execute on function private.staff_among(uuid[]) to authenticated;

-- Erased profiles are immutable (db/policies/README.md §8b): BEFORE UPDATE OR DELETE on profiles, for every
-- role (API callers, service_role and the owner alike: BYPASSRLS does not skip a trigger). An erased profile
-- (erased_at set) is an "Erased person" placeholder (private.erased_person_placeholder: the requester and
-- author of every erased person's tickets and messages) or a person anonymised before 0240; renaming one,
-- reactivating it (deactivated_at), changing its role or deleting it would put a name or a live account on
-- the content it carries, or lose the organization's support history.
--
-- The one writer is the erasure workflow: private.erase_person finishes a legacy erased person (clears the
-- restriction marker, deletes the auth user and so, by cascade, the profile). It announces itself with a row
-- (transaction_id, subject_id) in private.erasure_in_progress, which it deletes before returning. Why that
-- marker and not another: a GUC (set_config) can be set by any role, so any caller could claim to be the
-- erasure; disabling this trigger would lock public.profiles (ACCESS EXCLUSIVE) against every request until
-- the erasure commits, since every policy reads profiles; the table is private with no privilege for any API
-- role or service_role, so only the owner's functions write it, and a row names one transaction
-- (pg_current_xact_id(), the top-level xid8, which never wraps) and one subject, so it can authorise nothing
-- else. Security definer: the caller (an API role) may not read that table; the function tells it nothing
-- but the refusal.
create or replace function private.guard_erased_profile() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if old.erased_at is null then
        return coalesce(new, old);
    end if;
    if exists (
        select from private.erasure_in_progress as e
        where e.transaction_id = pg_current_xact_id() and e.subject_id = old.id
    ) then
        return coalesce(new, old);  -- private.erase_person finishing this very person
    end if;
    -- No id in the message: a caller learns nothing it did not send.
    raise exception 'profiles: an erased profile cannot be changed'
        using errcode = '42501',
        hint = 'Erased people and the "Erased person" placeholders are immutable (GDPR Art. 17); '
        'nothing but private.erase_person writes them.';
end
$$;
revoke all on function private.guard_erased_profile() from public;
