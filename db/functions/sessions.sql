-- Live sessions: whether the caller's own sign-in session still exists.

-- Why: an access token is a signed statement valid until `exp` (900 s); signing out deletes the session in
-- Supabase Auth, yet the token itself stays valid, so a copied cookie or bearer token kept working for up to
-- 15 minutes after sign-out. GoTrue itself refuses such a token: every authenticated GoTrue endpoint loads
-- the session named by the JWT's `session_id` claim and answers 403 session_not_found when the row is gone
-- (supabase/auth internal/api/auth.go, maybeLoadUserOrSession). Logout deletes rows of auth.sessions:
-- scope=local the caller's session (models.LogoutSession: `delete ... where id = ?`), scope=others every other
-- session of the user (models.LogoutAllExceptMe), scope=global (the default) every session of the user
-- (models.Logout: `delete ... where user_id = ?`) (supabase/auth internal/api/logout.go and
-- internal/models/sessions.go). A session also ends at `not_after` (Session.CheckValidity, the
-- column from migration 20221114143122). The portal asks this function, at most every few seconds per
-- session (app/auth/live_sessions.py), for every cookie session and every bearer token of its JSON API.
--
-- Why a definer: the API roles read nothing of `auth`; the function runs as its owner, which reads
-- auth.sessions (locally the owner; on Supabase `postgres`, to which GoTrue grants select on auth.sessions:
-- supabase/auth migration 20240612123726_enable_rls_update_grants). It takes no argument and answers only
-- about the caller's own session (the verified JWT's `session_id` and `sub`), so it is no oracle about other
-- sessions or people. db/policies/README.md §6.
create or replace function private.session_is_live() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_session uuid;
begin
    begin
        v_session := nullif((select auth.jwt()) ->> 'session_id', '')::uuid;
    exception when invalid_text_representation then
        return false;
    end;
    return exists (
        select
        from auth.sessions as s
        where
            s.id = v_session
            and s.user_id = (select auth.uid())
            and (s.not_after is null or s.not_after > now())
    );
end
$$;

revoke all on function private.session_is_live() from public, anon;
grant execute on function private.session_is_live() to authenticated;
