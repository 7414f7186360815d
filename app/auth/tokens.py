"""Access tokens: minted locally (HS256, the dev secret) and verified locally or against Supabase's JWKS.

The claims are the ones Supabase Auth issues and policies read: sub, role, aal, amr, session_id, email,
plus iss, aud, iat, exp and is_anonymous. Verification checks signature, expiry (30 s leeway, as
PostgREST) and audience; a token that fails any check is no token at all. The portal's verifier also asks
whether the token's session is still alive (app/auth/live_sessions.py): a signed-out session's tokens are
refused before their `exp`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from app.tls import tls_context

AUDIENCE = "authenticated"
LEEWAY_SECONDS = 30
LOCAL_ISSUER = "nexk-local-auth"
# Verified tokens remembered per process: a browser sends the same access token with every request, and
# checking its signature (and, in production, finding its JWKS key) is a measurable share of a request's CPU.
CACHE_SIZE = 4096
# A remembered verdict is re-derived at least this often, so a signing key withdrawn from the JWKS stops
# being honoured within this time (PyJWKClient itself keeps keys for 600 s).
CACHE_SECONDS = 300


class InvalidToken(Exception):
    """The token is missing, expired, forged or for another audience."""


class TokenVerifier:
    """Checks access tokens; `jwks_url` set means production (asymmetric keys published by Supabase)."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        session_is_live: Callable[[Mapping[str, Any]], bool] | None = None,
    ):
        if (secret is None) == (jwks_url is None):
            raise ValueError("give exactly one of secret (local HS256) or jwks_url (Supabase signing keys)")
        self._secret = secret
        # The signing keys come from Supabase over TLS 1.3 with a verified certificate (app/tls.py).
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600, ssl_context=tls_context())
            if jwks_url
            else None
        )
        self._issuer = issuer
        # Whether the token's session still exists (app/auth/live_sessions.py): a signed-out session's tokens
        # are refused although their signature and `exp` are fine. Asked on every call (it has its own,
        # much shorter, memory), never remembered with the signature verdict below.
        self._session_is_live = session_is_live
        # token -> (claims, remembered until): bounded LRU, shared by the worker threads.
        self._verified: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or InvalidToken. A token verified before is answered from memory until it
        expires (exp + the same leeway) or CACHE_SECONDS pass, whichever comes first; only successes are
        remembered, so a forged or expired token is checked (and refused) every time. With a session check,
        a token whose session has ended (signed out) is refused too."""
        claims = self._verify_signature(token)
        if self._session_is_live is not None and not self._session_is_live(claims):
            raise InvalidToken("the session of this token has ended (signed out or expired): sign in again")
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            hit = self._verified.get(token)
            if hit is not None:
                if now < hit[1]:
                    self._verified.move_to_end(token)
                    return dict(hit[0])  # a copy: callers may annotate their claims
                del self._verified[token]
        claims = self._verify_uncached(token)
        until = min(float(claims["exp"]) + LEEWAY_SECONDS, now + CACHE_SECONDS)
        with self._lock:
            self._verified[token] = (dict(claims), until)
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify_uncached(self, token: str) -> dict[str, Any]:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=AUDIENCE,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "role"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("role") != "authenticated":
            raise InvalidToken("only `authenticated` tokens open a portal session")
        return claims


def mint_access_token(
    secret: str,
    *,
    user_id: str,
    email: str | None,
    session_id: str,
    aal: str,
    amr: list[dict[str, Any]],
    lifetime: int,
    now: int | None = None,
) -> tuple[str, int]:
    """A local access token with Supabase's claim set; returns (token, expires_at)."""
    issued = int(now if now is not None else time.time())
    expires = issued + lifetime
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "role": "authenticated",
        "email": email,
        "aal": aal,
        "amr": amr,
        "session_id": session_id,
        "is_anonymous": False,
        "iat": issued,
        "exp": expires,
    }
    return jwt.encode(claims, secret, algorithm="HS256"), expires
