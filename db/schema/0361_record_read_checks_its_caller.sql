-- 0361: private.record_read checks its caller (issue 13, finding 4).
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

revoke all on function private.record_read(text, uuid) from public, anon;
grant execute on function private.record_read(text, uuid) to authenticated;
