-- Data minimisation of profiles (GDPR Art. 5(1)(c)): from this release a client_member reads only their own
-- profile row (db/policies/profiles.sql); until now every client read every column of every colleague's row
-- (phone, position, language, theme, notification preferences, and the GDPR markers restricted_at,
-- deactivated_at, erased_at, i.e. that a colleague filed a data-subject request). Column grants cannot depend
-- on the row, so the policy narrows the rows, and what members legitimately need about colleagues, their
-- display name (the requester of a shared ticket, the author of a message in a thread they can see), comes
-- from this one narrow function instead:
--
--   private.display_names(p_ids uuid[]) -> table (id uuid, name text)
--
-- It answers `first_name || ' ' || surname` for the ids among p_ids whose profile the caller could read under
-- the previous profiles_select rule (own row; clients: their organization; agents: NexK staff and the
-- organizations assigned to them; admins: everyone), under the staff MFA rule (staff below aal2 get
-- nothing), and nothing for anyone else: no other column, no row for an id outside that set, and nothing at
-- all for a stranger, a deactivated or erased caller (private.current_app_role() is null). It is a security
-- definer (it reads rows the caller's own SELECT no longer shows), stable, pins search_path, is executable by
-- authenticated only (anon: 42501) and is called once per page with the ids of the page
-- (app/queries/tickets.py), never once per row.

create or replace function private.display_names(p_ids uuid[])
returns table (id uuid, name text)
language sql stable security definer
set search_path = ''
as $$
    select p.id, p.first_name || ' ' || p.surname
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
        )
$$;

revoke all on function private.display_names(uuid[]) from public;
revoke all on function private.display_names(uuid[]) from anon;
grant execute on function private.display_names(uuid[]) to authenticated;
