"""The production auth adapter: Supabase Auth (GoTrue) over its REST API, with the publishable key.

GoTrue owns passwords, factors and sessions; the portal only relays the person's input and keeps the tokens
in cookies. Access tokens are verified against the project's JWKS (app.auth.tokens), never trusted blindly.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import jwt

from app.auth import (
    INVITATION_METADATA_KEY,
    INVITATION_REFUSED,
    RESEND_REFUSED,
    RESEND_TOO_SOON,
    AuthError,
    AuthRateLimited,
    AuthSession,
    SignOutScope,
    TotpEnrolment,
)
from app.i18n import N_
from app.tls import https_client  # TLS 1.3 only, certificate verified (the privacy policy's promise)

_BAD_CREDENTIALS = N_("The e-mail address or password is not correct.")
_TOO_MANY = N_("Too many attempts: wait a few minutes and try again.")


class SupabaseAuth:
    def __init__(self, supabase_url: str, publishable_key: str, *, client: httpx.Client | None = None):
        self._base = f"{supabase_url.rstrip('/')}/auth/v1"
        self._client = client or https_client(timeout=10.0, headers={"apikey": publishable_key})
        self._client.headers["apikey"] = publishable_key

    def open(self) -> None:
        """Nothing to open: the HTTP client connects lazily."""

    def close(self) -> None:
        self._client.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        message: str,
        too_many: str = _TOO_MANY,
        **kwargs: Any,
    ) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._client.request(method, f"{self._base}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise AuthError(N_("Sign-in is unavailable right now: try again in a minute.")) from exc
        if response.status_code == 429:
            raise AuthRateLimited(too_many)
        if response.status_code >= 400:
            raise AuthError(message)
        return response.json() if response.content else None

    def _session(self, body: dict[str, Any], has_totp: bool | None = None) -> AuthSession:
        token = body["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})  # verified on every request instead
        if has_totp is None:
            factors = (body.get("user") or {}).get("factors") or []
            has_totp = any(f.get("factor_type") == "totp" and f.get("status") == "verified" for f in factors)
        return AuthSession(
            token,
            body["refresh_token"],
            int(body["expires_at"]),
            claims["sub"],
            claims.get("aal", "aal1"),
            has_totp,
        )

    def _verified_totp_factor(self, session: AuthSession) -> str | None:
        user = self._call("GET", "/user", token=session.access_token, message=N_("Your session has ended."))
        for factor in user.get("factors") or []:
            if factor.get("factor_type") == "totp" and factor.get("status") == "verified":
                return str(factor["id"])
        return None

    def sign_in_password(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None
    ) -> AuthSession:
        headers = {"X-Forwarded-For": ip} if ip else {}
        body = self._call(
            "POST",
            "/token?grant_type=password",
            json={"email": email, "password": password},
            headers=headers,
            message=_BAD_CREDENTIALS,
        )
        return self._session(body)

    def has_totp(self, session: AuthSession) -> bool:
        return self._verified_totp_factor(session) is not None

    def enroll_totp(self, session: AuthSession) -> TotpEnrolment:
        body = self._call(
            "POST",
            "/factors",
            token=session.access_token,
            json={"factor_type": "totp", "friendly_name": "Authenticator app"},
            message=N_("The authenticator app could not be set up: sign in again and retry."),
        )
        return TotpEnrolment(str(body["id"]), body["totp"]["secret"], body["totp"]["uri"])

    def verify_totp(self, session: AuthSession, code: str) -> AuthSession:
        factor_id = self._verified_totp_factor(session)
        if factor_id is None:
            user = self._call(
                "GET", "/user", token=session.access_token, message=N_("Your session has ended.")
            )
            pending = [f for f in user.get("factors") or [] if f.get("factor_type") == "totp"]
            if not pending:
                raise AuthError(N_("Set up an authenticator app first."))
            factor_id = str(pending[-1]["id"])
        challenge = self._call(
            "POST", f"/factors/{factor_id}/challenge", token=session.access_token, message=N_("Try again.")
        )
        body = self._call(
            "POST",
            f"/factors/{factor_id}/verify",
            token=session.access_token,
            json={"challenge_id": challenge["id"], "code": code.strip()},
            message=N_("That code is not correct: type the 6 digits your app shows now."),
        )
        return self._session(body, has_totp=True)

    def refresh(self, refresh_token: str) -> AuthSession:
        body = self._call(
            "POST",
            "/token?grant_type=refresh_token",
            json={"refresh_token": refresh_token},
            message=N_("Your session has ended: sign in again."),
        )
        return self._session(body)

    def sign_out(self, session: AuthSession, scope: SignOutScope = "local") -> None:
        # GoTrue's default scope is global (every session of the user: supabase/auth internal/api/logout.go);
        # the portal's "Sign out" ends this browser's session only, as the local emulation does, so the scope
        # is always explicit. GoTrue deletes the auth.sessions rows, which private.session_is_live() reads.
        with contextlib.suppress(AuthError):  # already gone: the cookies are cleared anyway
            self._call("POST", "/logout", token=session.access_token, params={"scope": scope}, message="")

    def _verify_link(self, kind: str, token: str, password: str, message: str) -> AuthSession:
        body = self._call("POST", "/verify", json={"type": kind, "token_hash": token}, message=message)
        session = self._session(body)
        self._call(
            "PUT",
            "/user",
            token=session.access_token,
            json={"password": password},
            message=N_("That password was refused: choose a longer one."),
        )
        return session

    def invite(self, email: str, nonce: str) -> None:
        # An e-mail OTP sign-up with the publishable key: GoTrue creates the user at once (the data becomes its
        # user metadata) and mails the confirmation link; its before-user-created hook lets the account be
        # created only with the nonce of a pending invitation (db/schema/0280). GoTrue's own invite endpoint
        # would need the service-role key, which request handlers never hold.
        self._call(
            "POST",
            "/otp",
            json={"email": email, "create_user": True, "data": {INVITATION_METADATA_KEY: nonce}},
            message=INVITATION_REFUSED,
        )

    def resend_invitation(self, email: str) -> None:
        # GoTrue re-sends the "Confirm signup" message (the invitation) with a new token, which replaces the old
        # one. It answers 200 {} for an unknown or already confirmed address (no account oracle), and 429
        # over_email_send_rate_limit when it mailed the address less than its SMTP max frequency ago (60 s).
        self._call(
            "POST",
            "/resend",
            json={"type": "signup", "email": email},
            message=RESEND_REFUSED,
            too_many=RESEND_TOO_SOON,
        )

    def invitation_link_usable(self, token: str) -> bool | None:
        # GoTrue has no read-only check of a token hash: POST /verify is the only one, and it spends the link
        # (and a mail scanner's prefetch of a GET that spent it would lock the person out). The form is shown,
        # and a spent link is reported when it is submitted.
        return None

    def accept_invite(self, token: str, password: str) -> AuthSession:
        # The link carries the token hash of the sign-up confirmation; type "email" verifies it (and confirms
        # the address), as for any e-mail OTP.
        return self._verify_link(
            "email", token, password, N_("This invitation link is not valid any more: ask for a new one.")
        )

    def request_password_reset(self, email: str) -> None:
        with contextlib.suppress(AuthError):  # never reveal whether the address exists
            self._call("POST", "/recover", json={"email": email}, message="")

    def reset_password(self, token: str, password: str) -> AuthSession:
        return self._verify_link(
            "recovery",
            token,
            password,
            N_("This reset link has expired or was already used: ask for a new one."),
        )
