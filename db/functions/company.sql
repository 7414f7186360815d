-- Client admins and their company: the sharing setting and the invitation status they may see.

-- A client administrator manages their own company from the portal ("My company"): the members and their
-- roles, invitations, deactivation (all under the row rules of db/policies/README.md §3, profiles and
-- private.invitations), and two things those rules do not give them, each through one narrow security
-- definer (README §6, "Client administrators' company"):
--
--   private.set_my_organization_sharing(p_shared boolean): the organizations row is written by NexK admins
--       only, but whether members see each other's tickets (shared_tickets) is the client's own decision.
--       This sets that one column of the caller's own organization, nothing else; audited by the
--       organizations trigger (actor = the client admin).
--   private.my_organization_invitation_status(p_ids uuid[]): whether each member accepted their invitation
--       (auth.users, which no API role reads), as private.admin_invitation_status (0320) answers admins, but
--       only for non-erased profiles of the caller's organization.
--
-- Both refuse (42501) anyone but an active client_admin: client members, staff, strangers (and anon, who
-- has no execute privilege).

-- The caller check of both. Not a definer: it only runs inside them (as the owner); nobody else executes it.
create or replace function private.require_client_admin() returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
    if (select private.current_app_role()) is distinct from 'client_admin' then
        raise exception 'only a client administrator can manage their company'
            using errcode = '42501';
    end if;
    return (select private.current_org_id());
end
$$;
revoke all on function private.require_client_admin() from public;

create or replace function private.set_my_organization_sharing(p_shared boolean) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_org uuid := private.require_client_admin();
begin
    if p_shared is null then
        raise exception 'organizations: shared_tickets is true or false' using errcode = '22004';
    end if;
    update public.organizations as o set shared_tickets = p_shared where o.id = v_org;
end
$$;
revoke all on function private.set_my_organization_sharing(boolean) from public;
grant execute on function private.set_my_organization_sharing(boolean) to authenticated;

create or replace function private.my_organization_invitation_status(p_ids uuid[])
returns table (id uuid, accepted boolean, link_sent_at timestamptz)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_org uuid := private.require_client_admin();
begin
    return query
    select p.id, u.email_confirmed_at is not null, u.confirmation_sent_at
    from public.profiles as p
    inner join auth.users as u on p.id = u.id
    where p.id = any(p_ids) and p.erased_at is null and p.organization_id = v_org;
end
$$;
revoke all on function private.my_organization_invitation_status(uuid[]) from public;
grant execute on function private.my_organization_invitation_status(uuid[]) to authenticated;
