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
revoke all on function private.display_names(uuid[]) from anon;
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
revoke all on function private.staff_among(uuid[]) from anon;
grant execute on function private.staff_among(uuid[]) to authenticated;
