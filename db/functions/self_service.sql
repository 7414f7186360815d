-- Self-service: what a signed-in person may do about their own data (argument-free definer functions).

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
revoke all on function private.require_self_service() from public;

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
revoke all on function private.record_sign_in() from public;
grant execute on function private.record_sign_in() to authenticated;

create or replace function private.my_dsr_export() returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
    return private.dsr_export(private.require_self_service());
end
$$;
revoke all on function private.my_dsr_export() from public;
grant execute on function private.my_dsr_export() to authenticated;

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
revoke all on function private.request_my_dsr(text, text) from public;
grant execute on function private.request_my_dsr(text, text) to authenticated;
