"""The local auth adapter: a small emulation of Supabase Auth (GoTrue) for dev and tests.

In production GoTrue is a separate service with its own privileged database role (supabase_auth_admin); the
portal never touches auth.*. Locally this module plays that service, so it is the ONE place that holds an
owner connection: a tiny pool on `auth_database_url`, used only for auth.users, auth.sessions and
auth.mfa_factors, never for application data (which always goes through app.database and RLS).

Invitations go the production way (db/schema/0280): `invite()` calls the before-user-created hook
`private.hook_before_user_created` and inserts the auth.users row as GoTrue does, as the role
`supabase_auth_admin` (the compatibility layer creates it), and the database's triggers create the profile.

What it expects in the database (the demo seed creates it):
- auth.users: email (lower case), encrypted_password = bcrypt hash, email_confirmed_at set, not banned/deleted;
- auth.mfa_factors for a TOTP user: factor_type 'totp', status 'verified', secret = the base32 TOTP secret.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import bcrypt
import jwt
import pyotp
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from app.auth import (
    INVITATION_METADATA_KEY,
    INVITATION_REFUSED,
    RESEND_TOO_SOON,
    AuthError,
    AuthRateLimited,
    AuthSession,
    SignOutScope,
    TotpEnrolment,
)
from app.auth.tokens import mint_access_token
from app.i18n import N_
from db.rows import one

log = logging.getLogger("nexk.auth")

TOTP_ISSUER = "myNexK"
RECOVERY_SECONDS = 3600
# GoTrue's e-mail link lifetime (mailer_otp_exp): infra sets its maximum, one day (infra/supabase_platform.py).
INVITATION_LINK_SECONDS = 86400
# GoTrue's SMTP max frequency (Supabase's default): one confirmation e-mail a minute per address.
EMAIL_FREQUENCY_SECONDS = 60
# Spent on unknown e-mails too, so response time does not reveal which accounts exist.
_DUMMY_HASH = bcrypt.hashpw(b"nexk-dummy-password", bcrypt.gensalt(rounds=10))
_BAD_CREDENTIALS = N_("The e-mail address or password is not correct.")
# GoTrue's audit actions this adapter performs and their log types (models.ActionLogTypeMap).
_AUDIT_LOG_TYPES = {
    "login": "account",
    "logout": "account",
    "user_signedup": "team",
    "token_refreshed": "token",
}


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def check_password_rules(password: str) -> None:
    if len(password) < 10:
        raise AuthError(N_("Choose a password of at least 10 characters."))
    if len(password.encode()) > 72:
        raise AuthError(N_("Choose a password of at most 72 bytes (bcrypt ignores the rest)."))


def _password_matches(password: str, stored: str | None) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), (stored or _DUMMY_HASH.decode()).encode()) and bool(stored)
    except ValueError:
        return False


class LocalAuth:
    def __init__(
        self, auth_dsn: str, secret: str, *, access_seconds: int = 900, refresh_seconds: int = 604800
    ):
        self._pool = ConnectionPool(
            auth_dsn,
            connection_class=Connection[DictRow],
            min_size=0,
            max_size=2,
            kwargs={"row_factory": dict_row},
            open=False,
            name="nexk-local-auth",
        )
        self._secret = secret
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_seconds

    def open(self) -> None:
        self._pool.open()

    def close(self) -> None:
        self._pool.close()

    # -- sessions -------------------------------------------------------------------------------------
    def _session(self, conn: Any, user: dict[str, Any], session: dict[str, Any]) -> AuthSession:
        has_totp = self._has_verified_totp(conn, user["id"])
        aal = str(session["aal"] or "aal1")
        amr = [{"method": "totp", "timestamp": int(time.time())}] if aal == "aal2" else []
        amr.append({"method": "password", "timestamp": int(session["created_at"].timestamp())})
        token, expires = mint_access_token(
            self._secret,
            user_id=str(user["id"]),
            email=user["email"],
            session_id=str(session["id"]),
            aal=aal,
            amr=amr,
            lifetime=self._access_seconds,
        )
        refresh = jwt.encode(
            {
                "typ": "refresh",
                "sid": str(session["id"]),
                "sub": str(user["id"]),
                "rat": session["refreshed_at"],  # the text form, compared as text on refresh
                "exp": int(time.time()) + self._refresh_seconds,
            },
            self._secret,
            algorithm="HS256",
        )
        return AuthSession(token, refresh, expires, str(user["id"]), aal, has_totp)

    def _start_session(
        self, conn: Any, user: dict[str, Any], ip: str | None, user_agent: str | None
    ) -> AuthSession:
        session = conn.execute(
            """insert into auth.sessions (id, user_id, aal, not_after, refreshed_at, user_agent, ip)
               values (%s, %s, 'aal1', now() + make_interval(secs => %s), clock_timestamp()::timestamp, %s, %s)
               returning id, aal, created_at, refreshed_at::text as refreshed_at""",
            (uuid.uuid4(), user["id"], self._refresh_seconds, (user_agent or "")[:500], ip or None),
        ).fetchone()
        conn.execute("update auth.users set last_sign_in_at = now() where id = %s", (user["id"],))
        return self._session(conn, user, session)

    def _live_session(self, conn: Any, session: AuthSession) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            claims = jwt.decode(
                session.access_token, self._secret, algorithms=["HS256"], audience="authenticated"
            )
        except jwt.PyJWTError as exc:
            raise AuthError(N_("Your session has ended: sign in again.")) from exc
        row = conn.execute(
            """select s.id, s.aal, s.created_at, s.refreshed_at::text as refreshed_at, u.id as user_id, u.email
               from auth.sessions as s join auth.users as u on u.id = s.user_id
               where s.id = %s and s.user_id = %s and s.not_after > now()""",
            (claims["session_id"], claims["sub"]),
        ).fetchone()
        if row is None:
            raise AuthError(N_("Your session has ended: sign in again."))
        return {"id": row["user_id"], "email": row["email"]}, row

    # -- AuthBackend ----------------------------------------------------------------------------------
    def sign_in_password(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None
    ) -> AuthSession:
        with self._pool.connection() as conn:
            user = conn.execute(
                """select id, email, encrypted_password from auth.users
                   where lower(email) = lower(%s) and not is_sso_user and deleted_at is null
                     and email_confirmed_at is not null and (banned_until is null or banned_until < now())""",
                (email.strip(),),
            ).fetchone()
            if not _password_matches(password, user["encrypted_password"] if user else None) or user is None:
                raise AuthError(_BAD_CREDENTIALS)
            _audit(conn, user["id"], "login", {"provider": "email"})  # GoTrue's password grant (api/token.go)
            return self._start_session(conn, user, ip, user_agent)

    def has_totp(self, session: AuthSession) -> bool:
        with self._pool.connection() as conn:
            user, _ = self._live_session(conn, session)
            return self._has_verified_totp(conn, user["id"])

    @staticmethod
    def _has_verified_totp(conn: Any, user_id: Any) -> bool:
        return (
            conn.execute(
                "select 1 from auth.mfa_factors where user_id = %s and factor_type = 'totp' and status = 'verified'",
                (user_id,),
            ).fetchone()
            is not None
        )

    def enroll_totp(self, session: AuthSession) -> TotpEnrolment:
        with self._pool.connection() as conn:
            user, _ = self._live_session(conn, session)
            if self._has_verified_totp(conn, user["id"]):
                raise AuthError(N_("An authenticator app is already set up for this account."))
            conn.execute(
                "delete from auth.mfa_factors where user_id = %s and status = 'unverified'", (user["id"],)
            )
            secret = pyotp.random_base32()
            factor_id = uuid.uuid4()
            conn.execute(
                """insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, secret)
                   values (%s, %s, 'Authenticator app', 'totp', 'unverified', %s)""",
                (factor_id, user["id"], secret),
            )
            uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=TOTP_ISSUER)
            return TotpEnrolment(str(factor_id), secret, uri)

    def verify_totp(self, session: AuthSession, code: str) -> AuthSession:
        code = code.strip().replace(" ", "")
        with self._pool.connection() as conn:
            user, live = self._live_session(conn, session)
            factor = conn.execute(
                """select id, secret, status, last_challenged_at from auth.mfa_factors
                   where user_id = %s and factor_type = 'totp'
                   order by (status = 'verified') desc, created_at desc limit 1""",
                (user["id"],),
            ).fetchone()
            if factor is None:
                raise AuthError(N_("Set up an authenticator app first."))
            totp = pyotp.TOTP(factor["secret"])
            now = datetime.now(UTC)
            matched = next(
                (d for d in (0, -1, 1) if totp.verify(code, for_time=now.timestamp() + d * 30)), None
            )
            if matched is None or not code.isdigit():
                raise AuthError(N_("That code is not correct: type the 6 digits your app shows now."))
            step = int(now.timestamp() // 30) + matched
            last = factor["last_challenged_at"]
            if last is not None and step <= int(last.timestamp() // 30):
                raise AuthError(N_("That code was already used: wait for the next one."))
            conn.execute(
                """update auth.mfa_factors set status = 'verified', updated_at = now(),
                   last_challenged_at = to_timestamp(%s) where id = %s""",
                (step * 30 + secrets.randbelow(10**6) / 10**6, factor["id"]),
            )
            conn.execute(
                "insert into auth.mfa_challenges (id, factor_id, created_at, verified_at, ip_address) "
                "values (%s, %s, now(), now(), '127.0.0.1')",
                (uuid.uuid4(), factor["id"]),
            )
            row = conn.execute(
                """update auth.sessions set aal = 'aal2', updated_at = now(),
                   refreshed_at = clock_timestamp()::timestamp where id = %s
                   returning id, aal, created_at, refreshed_at::text as refreshed_at""",
                (live["id"],),
            ).fetchone()
            return self._session(conn, user, one(row))

    def refresh(self, refresh_token: str) -> AuthSession:
        try:
            claims = jwt.decode(
                refresh_token, self._secret, algorithms=["HS256"], options={"require": ["exp"]}
            )
        except jwt.PyJWTError as exc:
            raise AuthError(N_("Your session has ended: sign in again.")) from exc
        if claims.get("typ") != "refresh":
            raise AuthError(N_("Your session has ended: sign in again."))
        with self._pool.connection() as conn:
            # Rotation: only the latest refresh token of a session works; a replayed older one ends it.
            row = conn.execute(
                """update auth.sessions set refreshed_at = clock_timestamp()::timestamp, updated_at = now()
                   where id = %s and user_id = %s and not_after > now() and refreshed_at::text = %s
                   returning id, aal, created_at, refreshed_at::text as refreshed_at""",
                (claims["sid"], claims["sub"], claims["rat"]),
            ).fetchone()
            if row is None:
                conn.execute("delete from auth.sessions where id = %s", (claims["sid"],))
                conn.commit()
                raise AuthError(N_("Your session has ended: sign in again."))
            user = conn.execute("select id, email from auth.users where id = %s", (claims["sub"],)).fetchone()
            if user is None:  # the person was erased while the session lived
                raise AuthError(N_("Your session has ended: sign in again."))
            _audit(conn, user["id"], "token_refreshed")  # tokens/service.go
            return self._session(conn, user, row)

    def sign_out(self, session: AuthSession, scope: SignOutScope = "local") -> None:
        """GoTrue's logout (supabase/auth internal/models/sessions.go): `local` deletes this session
        (LogoutSession), `others` every other session of the user (LogoutAllExceptMe), `global` every session
        of the user (Logout). The refresh tokens die with their session rows (ON DELETE CASCADE on GoTrue's
        refresh_tokens; here a refresh token names its session)."""
        try:
            claims = jwt.decode(
                session.access_token,
                self._secret,
                algorithms=["HS256"],
                audience="authenticated",
                options={"verify_exp": False},
            )
        except jwt.PyJWTError:
            return
        session_id, user_id = claims.get("session_id"), claims.get("sub")
        statements = {
            "local": ("delete from auth.sessions where id = %s and user_id = %s", (session_id, user_id)),
            "others": ("delete from auth.sessions where id <> %s and user_id = %s", (session_id, user_id)),
            "global": ("delete from auth.sessions where user_id = %s", (user_id,)),
        }
        if scope not in statements:
            raise ValueError(f"unsupported sign-out scope {scope!r}: use local, others or global")
        with self._pool.connection() as conn:
            _audit(conn, user_id, "logout")  # api/logout.go, whatever the scope
            conn.execute(*statements[scope])

    def invite(self, email: str, nonce: str) -> None:
        """What GoTrue's POST /otp with create_user does (app/auth/supabase.py): a new address gets an account
        only if the before-user-created hook agrees, then the confirmation link is "mailed" (logged)."""
        address = email.strip().lower()  # GoTrue stores addresses lower-case
        token = secrets.token_urlsafe(32)
        with self._pool.connection() as conn:
            existing = conn.execute(
                "select id, email_confirmed_at from auth.users where lower(email) = %s", (address,)
            ).fetchone()
            if existing is not None and existing["email_confirmed_at"] is not None:
                # GoTrue would e-mail a sign-in (magic) link and create nothing; the portal notices that the
                # invitation was not used. Magic links are not emulated.
                log.warning(
                    "dev mailbox: %s already has an account: GoTrue would send a sign-in link", address
                )
                return
            if existing is not None:
                # Not confirmed yet: GoTrue sends the confirmation link again and leaves the account alone.
                conn.execute(
                    """update auth.users set confirmation_token = %s, confirmation_sent_at = now(),
                       updated_at = now() where id = %s""",
                    (_token_hash(token), existing["id"]),
                )
            else:
                self._create_invited_user(conn, address, nonce, token)
        # Dev has no mail server: the link goes to the server log (GoTrue e-mails it in production).
        log.warning("dev mailbox: invitation link for %s: /auth/invite?token=%s", address, token)

    @staticmethod
    def _create_invited_user(conn: Any, address: str, nonce: str, token: str) -> None:
        """GoTrue's sign-up of a new user, run as its role supabase_auth_admin when this login may take it."""
        user_id = uuid.uuid4()
        app_metadata = {"provider": "email", "providers": ["email"]}
        user_metadata = {INVITATION_METADATA_KEY: nonce}
        event = {
            "metadata": {
                "uuid": str(uuid.uuid4()),
                "time": datetime.now(UTC).isoformat(),
                "name": "before-user-created",
                "ip_address": "127.0.0.1",
            },
            "user": {
                "id": str(user_id),
                "aud": "authenticated",
                "role": "",
                "email": address,
                "phone": "",
                "app_metadata": app_metadata,
                "user_metadata": user_metadata,
                "identities": [],
                "created_at": "0001-01-01T00:00:00Z",
                "updated_at": "0001-01-01T00:00:00Z",
                "is_anonymous": False,
            },
        }
        as_gotrue = conn.execute(
            """select case when exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin')
                      then pg_has_role('supabase_auth_admin', 'member') else false end as ok"""
        ).fetchone()["ok"]
        if as_gotrue:
            conn.execute("set local role supabase_auth_admin")
        verdict: dict[str, Any] = one(
            conn.execute("select private.hook_before_user_created(%s) as verdict", (Jsonb(event),)).fetchone()
        )["verdict"]
        if verdict.get("error"):
            log.warning("before-user-created hook refused %s: %s", address, verdict["error"].get("message"))
            raise AuthError(INVITATION_REFUSED)
        # The triggers on auth.users (db/schema/0280) create the profile and strip the nonce.
        conn.execute(
            """insert into auth.users (id, aud, role, email, confirmation_token, confirmation_sent_at,
                   raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
               values (%s, 'authenticated', 'authenticated', %s, %s, now(), %s, %s, now(), now())""",
            (
                user_id,
                address,
                _token_hash(token),
                Jsonb(app_metadata),
                Jsonb(user_metadata),
            ),
        )
        if as_gotrue:
            conn.execute("reset role")

    def resend_invitation(self, email: str) -> None:
        """What GoTrue's POST /resend with type signup does (app/auth/supabase.py): a fresh confirmation token,
        which replaces the old one, and the link "mailed" (logged) again. An unknown or already confirmed address
        gets nothing and no error, exactly as from GoTrue (no account oracle); a second e-mail within a minute is
        refused as GoTrue's 429. Every unconfirmed account here is an invited one (the before-user-created hook
        lets no other sign-up through), and only accounts with a profile are re-sent anything."""
        address = email.strip().lower()
        token = secrets.token_urlsafe(32)
        with self._pool.connection() as conn:
            user = conn.execute(
                """select u.id,
                          coalesce(u.confirmation_sent_at > now() - make_interval(secs => %s), false) as too_soon
                   from auth.users as u
                   where lower(u.email) = %s and u.deleted_at is null and u.email_confirmed_at is null
                     and exists (select from public.profiles as p where p.id = u.id)
                   for update of u""",
                (EMAIL_FREQUENCY_SECONDS, address),
            ).fetchone()
            if user is None:
                return
            if user["too_soon"]:
                raise AuthRateLimited(RESEND_TOO_SOON)
            conn.execute(
                """update auth.users set confirmation_token = %s, confirmation_sent_at = now(), updated_at = now()
                   where id = %s""",
                (_token_hash(token), user["id"]),
            )
        # Dev has no mail server: the link goes to the server log (GoTrue e-mails it in production).
        log.warning("dev mailbox: invitation link for %s: /auth/invite?token=%s", address, token)

    def invitation_link_usable(self, token: str) -> bool | None:
        """The same test as accept_invite's, read-only: an unspent token that is less than a day old."""
        with self._pool.connection() as conn:
            row = conn.execute(
                """select 1 from auth.users
                   where confirmation_token = %s and confirmation_token <> ''
                     and confirmation_sent_at > now() - make_interval(secs => %s)""",
                (_token_hash(token), INVITATION_LINK_SECONDS),
            ).fetchone()
        return row is not None

    def accept_invite(self, token: str, password: str) -> AuthSession:
        """GoTrue's POST /verify (type email, the confirmation token) then PUT /user with the password."""
        check_password_rules(password)
        with self._pool.connection() as conn:
            user = conn.execute(
                """update auth.users set encrypted_password = %s, email_confirmed_at = now(),
                   confirmation_token = '', updated_at = now()
                   where confirmation_token = %s and confirmation_token <> ''
                     and confirmation_sent_at > now() - make_interval(secs => %s)
                   returning id, email""",
                (hash_password(password), _token_hash(token), INVITATION_LINK_SECONDS),
            ).fetchone()
            if user is None:
                raise AuthError(
                    N_("This invitation link is not valid any more: ask your administrator for a new one.")
                )
            _audit(conn, user["id"], "user_signedup", {"provider": "email"})  # api/verify.go signupVerify
            return self._start_session(conn, user, None, None)

    def request_password_reset(self, email: str) -> None:
        token = secrets.token_urlsafe(32)
        with self._pool.connection() as conn:
            updated = conn.execute(
                """update auth.users set recovery_token = %s, recovery_sent_at = now()
                   where lower(email) = lower(%s) and deleted_at is null returning id""",
                (_token_hash(token), email.strip()),
            ).fetchone()
        if updated is not None:
            # Dev has no mail server: the link goes to the server log (GoTrue e-mails it in production).
            log.warning("dev mailbox: password reset link for %s: /auth/reset?token=%s", email, token)

    def reset_password(self, token: str, password: str) -> AuthSession:
        check_password_rules(password)
        with self._pool.connection() as conn:
            user = conn.execute(
                # As GoTrue's recovery: it also confirms an address not confirmed yet (an invitee who lost the
                # invitation link), which spends the invitation link.
                """update auth.users set encrypted_password = %s, recovery_token = '', updated_at = now(),
                       email_confirmed_at = coalesce(email_confirmed_at, now()),
                       confirmation_token = case when email_confirmed_at is null then '' else confirmation_token end
                   where recovery_token = %s and recovery_token <> ''
                     and recovery_sent_at > now() - make_interval(secs => %s)
                   returning id, email""",
                (hash_password(password), _token_hash(token), RECOVERY_SECONDS),
            ).fetchone()
            if user is None:
                raise AuthError(N_("This reset link has expired or was already used: ask for a new one."))
            conn.execute("delete from auth.sessions where user_id = %s", (user["id"],))
            _audit(conn, user["id"], "login")  # api/verify.go recoverVerify (a confirmed user)
            return self._start_session(conn, user, None, None)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _audit(conn: Any, user_id: Any, action: str, traits: dict[str, Any] | None = None) -> None:
    """One row of GoTrue's audit trail, as models.NewAuditLogEntry (supabase/auth
    internal/models/audit_log_entry.go) writes it: instance_id uuid.Nil, the actor's id, username (the phone
    when there is one, else the e-mail), full name (when the metadata has one) and SSO flag, the action and
    its log type, the traits; ip_address '' as the login, logout and refresh handlers pass it."""
    conn.execute(
        """insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
           select '00000000-0000-0000-0000-000000000000', %(id)s,
               (jsonb_build_object(
                   'actor_id', u.id, 'actor_via_sso', u.is_sso_user,
                   'actor_username', coalesce(nullif(u.phone, ''), u.email, ''),
                   'action', %(action)s::text, 'log_type', %(log_type)s::text)
                || case when u.raw_user_meta_data ? 'full_name'
                    then jsonb_build_object('actor_name', u.raw_user_meta_data -> 'full_name') else '{}' end
                || case when %(traits)s::jsonb is not null
                    then jsonb_build_object('traits', %(traits)s::jsonb) else '{}' end)::json,
               now(), ''
           from auth.users as u where u.id = %(user)s""",
        {
            "id": uuid.uuid4(),
            "action": action,
            "log_type": _AUDIT_LOG_TYPES[action],
            "traits": Jsonb(traits) if traits is not None else None,
            "user": user_id,
        },
    )
