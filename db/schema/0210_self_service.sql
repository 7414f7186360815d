-- Self-service for the portal (issue 7): what a signed-in person may do about their own data and sessions
-- without an admin, through narrow security-definer wrappers that act for auth.uid() only, plus the list
-- index the portal engineer measured (ticket list p95 6.7 -> 2.1 ms).
--
--   private.record_sign_in()         a dedicated 'sign_in' entry in public.audit_log for the caller's session
--                                    (until now the portal logged a sign-in as a read of auth_sessions)
--   private.my_dsr_export() -> jsonb Art. 15/20 for the caller: private.dsr_export(auth.uid()), nobody else
--   private.request_my_dsr(type, details) -> uuid  Art. 16/17/18/21: the caller files a request about
--                                    themselves (0101's trigger computes the due dates; dsr_open journals it)
--
-- The 0104 functions stay owner-only (admin tooling taking any subject); these wrappers take no subject at
-- all, so a caller can never reach another person's data through them. Staff must have passed MFA, as the
-- restrictive *_staff_need_mfa policies demand everywhere else, and deactivated or erased people get nothing.

-- Keyset pagination of the ticket lists (organization slice, newest update first, id as tie-breaker).
create index tickets_org_updated_id_idx on public.tickets (organization_id, updated_at desc, id desc);

alter table public.audit_log drop constraint audit_log_action_check;
alter table public.audit_log add constraint audit_log_action_check check (
    action in ('insert', 'update', 'delete', 'read', 'sign_in')
);

-- The caller must be an active portal user, and staff must be at aal2; otherwise refuse with 42501.
create or replace function private.require_self_service() returns uuid
language plpgsql stable
set search_path = ''
as $$
begin
    if (select auth.uid()) is null or (select private.current_app_role()) is null then
        raise exception 'self-service needs a signed-in person with an active profile'
            using errcode = '42501';
    end if;
    if (select private.is_staff()) and not (select private.has_mfa()) then
        raise exception 'NexK staff need a session that passed multi-factor authentication'
            using errcode = '42501';
    end if;
    return (select auth.uid());
end
$$;

-- The session id comes from the verified JWT (session_id claim); IP and user agent from request.headers.
create or replace function private.record_sign_in() returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_session uuid;
begin
    if (select auth.uid()) is null then
        raise exception 'record_sign_in needs the signed-in user''s claims' using errcode = '42501';
    end if;
    begin
        v_session := nullif((select auth.jwt()) ->> 'session_id', '')::uuid;
    exception when invalid_text_representation then
        v_session := null;
    end;
    perform private.write_audit_entry('sign_in', 'auth_sessions', v_session, null);
end
$$;

create or replace function private.my_dsr_export() returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
    return private.dsr_export(private.require_self_service());
end
$$;

-- Access and portability are answered at once by my_dsr_export(); the rights that need a person to act
-- are filed here. One open request per type: a second one would only duplicate the admins' work.
create or replace function private.request_my_dsr(type text, details text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_subject uuid := private.require_self_service();
begin
    if request_my_dsr.type is null
        or request_my_dsr.type not in ('rectification', 'erasure', 'restriction', 'objection') then
        raise exception 'unknown request type %', request_my_dsr.type
            using errcode = '22023', hint = 'Use rectification, erasure, restriction or objection.';
    end if;
    if length(request_my_dsr.details) > 2000 then
        raise exception 'the details are longer than 2000 characters' using errcode = '22001';
    end if;
    if private.dsr_open_request(v_subject, array[request_my_dsr.type]) is not null then
        raise exception 'you already have an open % request', request_my_dsr.type using errcode = '23505';
    end if;
    return private.dsr_open(v_subject, request_my_dsr.type, now(), nullif(trim(request_my_dsr.details), ''));
end
$$;

revoke all on function private.require_self_service(), private.record_sign_in(), private.my_dsr_export(),
private.request_my_dsr(text, text) from public, anon, authenticated;
grant execute on function private.record_sign_in(), private.my_dsr_export(), private.request_my_dsr(text, text)
to authenticated;
