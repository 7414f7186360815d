-- The portal's DSR queue (issue 7, item 5): narrow security definer wrappers through which an administrator at
-- aal2 fulfils a recorded data-subject request from the portal. The private.dsr_* functions (0104) stay
-- owner-only; each wrapper here
--   * refuses everyone but an admin with MFA (42501), checked inside the function, since a definer bypasses
--     the policies that would otherwise stop a client or an agent;
--   * acts on one open request of the matching type (the queue's row), never on a free-form subject, so the
--     portal cannot erase or export anybody without a request on record;
--   * stamps `handled_by` with the admin (audited by the dsr_requests row trigger) and then calls the private
--     function, whose journal entry in private.dsr_events is audited too (actor = the admin's JWT subject).
-- They live in `private` (not exposed through /rpc) and are reached only by the portal's SQL.

-- The open request the action applies to, after the admin check. Not a definer: it only runs inside the
-- definer wrappers below (as the owner), and nobody else may execute it.
create or replace function private.admin_dsr_request(p_request uuid, p_types text[])
returns public.dsr_requests
language plpgsql
set search_path = ''
as $$
declare
    v_request public.dsr_requests;
begin
    if not coalesce((select private.is_admin()) and (select private.has_mfa()), false) then
        raise exception 'only a NexK administrator signed in with two-step verification can handle DSR requests'
            using errcode = '42501';
    end if;
    select r.* into v_request from public.dsr_requests as r where r.id = p_request for update;
    if not found then
        raise exception 'dsr: no request with id %', p_request
            using errcode = 'P0002', hint = 'Open the DSR queue and choose a request from the list.';
    end if;
    if v_request.completed_at is not null then
        raise exception 'dsr: request % was already closed (%)', v_request.id, v_request.status
            using errcode = '55000';
    end if;
    if v_request.type <> all(p_types) then
        raise exception 'dsr: this action does not fulfil a % request', v_request.type
            using errcode = '22023', hint = 'Use an action offered for this request in the queue.';
    end if;
    if v_request.subject_id is null then
        raise exception 'dsr: request % names no portal user', v_request.id
            using errcode = '22023', hint = 'Answer it outside the portal (nexk dsr) or link the subject first.';
    end if;
    update public.dsr_requests as r set handled_by = (select auth.uid())
    where r.id = v_request.id and r.handled_by is distinct from (select auth.uid());
    return v_request;
end
$$;

-- Art. 15 / 20: the person's data as JSON (access and portability requests).
create or replace function private.admin_dsr_export(p_request uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['access', 'portability']);
begin
    return private.dsr_export(v_request.subject_id);
end
$$;

-- Art. 16: correct first_name, surname, position, email, phone.
create or replace function private.admin_dsr_rectify(p_request uuid, p_changes jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['rectification']);
begin
    return private.dsr_rectify(v_request.subject_id, p_changes);
end
$$;

-- Art. 17: anonymise the person everywhere (0103); the caller removes the returned storage paths' bytes.
create or replace function private.admin_dsr_erase(p_request uuid, p_subprocessors jsonb) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['erasure']);
begin
    return private.dsr_erase(v_request.subject_id, p_subprocessors);
end
$$;

-- Art. 18 (and an objection pending review): set or lift the restriction.
create or replace function private.admin_dsr_restrict(
    p_request uuid, p_restricted boolean, p_subprocessors jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['restriction', 'objection']);
begin
    return private.dsr_restrict(v_request.subject_id, p_restricted, p_subprocessors);
end
$$;

-- Art. 21: record the objection to a legitimate-interest purpose.
create or replace function private.admin_dsr_object(p_request uuid, p_purpose text, p_reason text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(p_request, array['objection']);
begin
    return private.dsr_object(v_request.subject_id, p_purpose, p_reason);
end
$$;

-- Close the request (completed or rejected) with its Art. 19 recipients.
create or replace function private.admin_dsr_complete(p_request uuid, p_status text, p_subprocessors jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_request public.dsr_requests := private.admin_dsr_request(
        p_request, array['access', 'rectification', 'erasure', 'restriction', 'portability', 'objection']
    );
begin
    return private.dsr_complete(v_request.id, p_status, p_subprocessors);
end
$$;

revoke all on function private.admin_dsr_request(uuid, text[]) from public, anon, authenticated;
revoke all on function private.admin_dsr_export(uuid), private.admin_dsr_rectify(uuid, jsonb),
private.admin_dsr_erase(uuid, jsonb), private.admin_dsr_restrict(uuid, boolean, jsonb),
private.admin_dsr_object(uuid, text, text), private.admin_dsr_complete(uuid, text, jsonb)
from public, anon;
grant execute on function private.admin_dsr_export(uuid), private.admin_dsr_rectify(uuid, jsonb),
private.admin_dsr_erase(uuid, jsonb), private.admin_dsr_restrict(uuid, boolean, jsonb),
private.admin_dsr_object(uuid, text, text), private.admin_dsr_complete(uuid, text, jsonb)
to authenticated;
