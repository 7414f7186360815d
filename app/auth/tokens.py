"""Access tokens: minted locally (HS256, the dev secret) and verified locally or against Supabase's JWKS.

The claims are the ones Supabase Auth issues and policies read: sub, role, aal, amr, session_id, email,
plus iss, aud, iat, exp and is_anonymous. Verification checks signature, expiry (30 s leeway, as
PostgREST) and audience; a token that fails any check is no token at all.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

AUDIENCE = "authenticated"
LEEWAY_SECONDS = 30
LOCAL_ISSUER = "nexk-local-auth"


class InvalidToken(Exception):
    """The token is missing, expired, forged or for another audience."""


class TokenVerifier:
    """Checks access tokens; `jwks_url` set means production (asymmetric keys published by Supabase)."""

    def __init__(self, *, secret: str | None = None, jwks_url: str | None = None, issuer: str | None = None):
        if (secret is None) == (jwks_url is None):
            raise ValueError("give exactly one of secret (local HS256) or jwks_url (Supabase signing keys)")
        self._secret = secret
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600) if jwks_url else None
        self._issuer = issuer

    def verify(self, token: str) -> dict[str, Any]:
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
