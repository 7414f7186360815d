"""Authentication: one interface, two adapters (Supabase Auth in production, a local emulation in dev).

Routes only ever talk to an `AuthBackend`. Both adapters return the same `AuthSession`: a Supabase-shaped
access token (verified by `app.auth.tokens`) and an opaque refresh token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from app.i18n import N_

# The user metadata key that carries an invitation's nonce to the before-user-created hook (db/schema/0280).
INVITATION_METADATA_KEY = "nexk_invitation"
INVITATION_REFUSED = N_(
    "The sign-in service did not create the account. Try again in a minute; if it fails again, check that "
    "the invitation hook is on (docs/ops.md)."
)
RESEND_TOO_SOON = N_(
    "The sign-in service refused to send another e-mail so soon: it sends at most one a minute to the same "
    "address, and a limited number an hour in all. Wait a minute, then send the invitation again."
)
RESEND_REFUSED = N_(
    "The sign-in service did not send the link. Try again in a minute; if it fails again, check the e-mail "
    "settings of Supabase Auth (docs/ops.md)."
)


# GoTrue's logout scopes (supabase/auth internal/api/logout.go: LogoutLocal, LogoutOthers, LogoutGlobal).
SignOutScope = Literal["local", "others", "global"]


class AuthError(Exception):
    """Sign-in, MFA or token failure; the message is safe to show the person signing in."""


class AuthRateLimited(AuthError):
    """The auth service refused because of its rate limits (GoTrue's 429); the message says how long to wait."""


@dataclass(frozen=True)
class AuthSession:
    access_token: str
    refresh_token: str
    expires_at: int
    user_id: str
    aal: str
    # Whether the user has a verified TOTP factor (then aal1 sessions must pass the challenge).
    has_totp: bool


@dataclass(frozen=True)
class TotpEnrolment:
    factor_id: str
    secret: str
    uri: str


class AuthBackend(Protocol):
    def open(self) -> None:
        """Acquire what the backend needs (a pool, a client) before the first request."""

    def close(self) -> None:
        """Release it when the portal stops."""

    def sign_in_password(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None
    ) -> AuthSession:
        """Password sign-in; an aal1 session. Raises AuthError with a generic message on any mismatch."""

    def has_totp(self, session: AuthSession) -> bool:
        """Whether the user has a verified TOTP factor (then the MFA step is a challenge, not an enrolment)."""

    def enroll_totp(self, session: AuthSession) -> TotpEnrolment:
        """Start TOTP enrolment: an unverified factor whose secret the user puts in an authenticator app."""

    def verify_totp(self, session: AuthSession, code: str) -> AuthSession:
        """Check a TOTP code against the user's factor (verifying it if new); returns an aal2 session."""

    def refresh(self, refresh_token: str) -> AuthSession:
        """A fresh access token for a live session (rotates the refresh token)."""

    def sign_out(self, session: AuthSession, scope: SignOutScope = "local") -> None:
        """End sessions as GoTrue's POST /logout?scope=... does (supabase/auth internal/api/logout.go): `local`
        this session only (the portal's "Sign out"), `others` every other session of the user, `global` all
        of them. An ended session's refresh token stops working at once, and its access tokens are refused
        by the portal within app.auth.live_sessions.LIVE_SECONDS (everywhere, cookie or bearer)."""

    def invite(self, email: str, nonce: str) -> None:
        """Have the auth service create the account of an invited person and e-mail them their link.

        The invitation (with the sha256 of `nonce`) is already in private.invitations; the nonce travels as
        user metadata `nexk_invitation`, which the before-user-created hook checks, and the database creates
        the profile when the account row is inserted (db/schema/0280). No service-role key is involved.
        Raises AuthError when the auth service refuses or cannot be reached; nothing is created then.
        """

    def resend_invitation(self, email: str) -> None:
        """Send an invited person who has not accepted yet a fresh link (the old one stops working).

        GoTrue's POST /auth/v1/resend with type signup: silent, like GoTrue, for an unknown address or one that
        is already confirmed (no account oracle); the caller checks beforehand that the person is pending.
        Raises AuthRateLimited (RESEND_TOO_SOON) when a link went to the address less than a minute ago, and
        AuthError when the auth service refuses or cannot be reached.
        """

    def invitation_link_usable(self, token: str) -> bool | None:
        """Whether an invitation link can still be accepted, without spending it: True, False (used, replaced
        by a newer link, or expired), or None when the auth service cannot tell without spending it."""

    def accept_invite(self, token: str, password: str) -> AuthSession:
        """Finish an invitation: verify the e-mailed link (it confirms the address), set the password, sign in."""

    def request_password_reset(self, email: str) -> None:
        """Send a recovery link; silent when the address is unknown (no account oracle)."""

    def reset_password(self, token: str, password: str) -> AuthSession:
        """Use a recovery token to set a new password and sign in."""
