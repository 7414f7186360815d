"""The storage sweeper: deletes, through the Storage API, the objects erasure and retention queued.

Supabase Storage refuses SQL deletes on storage.objects (they would orphan the bytes), so erasure and the
contract-end purge queue the objects in `private.storage_deletions` (db/schema/0270) and this sweeper deletes
them as Storage's API does: row and bytes. It signs in as the sweeper system account, a GoTrue user whose
app_metadata says `nexk_system: storage_sweeper` (created by ops' `pulumi up`, docs/ops.md), and holds no key
that bypasses RLS: the storage.objects policies show that identity exactly the queued objects and let it
delete only those. Locally the same policies apply to a locally built claim set (dev has no GoTrue).

Runs from the Vercel cron (`GET /api/cron/storage-sweep`), right after an admin fulfils an erasure, and from
`nexk storage sweep`. A failed batch stays queued and is retried on the next run.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from app.auth import AuthBackend, AuthError
from app.auth.tokens import InvalidToken, TokenVerifier
from app.database import Database
from app.settings import Settings
from app.storage import BUCKET, AttachmentStorage, StorageUnavailable
from nexk.system_accounts import STORAGE_SWEEPER, SYSTEM_CLAIM

log = logging.getLogger(__name__)

SWEEPER_SYSTEM = STORAGE_SWEEPER  # app_metadata.nexk_system of the sweeper account
BATCH_SIZE = 1000  # Storage's API deletes at most 1000 objects per call
# The sweeper's user id in dev, where there is no GoTrue account (a fixed, recognisable UUID).
LOCAL_SWEEPER_ID = "00000000-0000-4000-8000-0000005eeeee"


class SweeperError(Exception):
    """The sweeper could not sign in or is not configured; the message says what to fix."""


@dataclass(frozen=True)
class SweeperSession:
    claims: dict[str, Any]
    token: str


@dataclass
class SweepResult:
    queued: int = 0  # objects the sweeper could see when it ran
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_session() -> SweeperSession:
    """The claims GoTrue would put in the sweeper's token; dev only (LocalStorage ignores the token)."""
    return SweeperSession(
        claims={
            "sub": LOCAL_SWEEPER_ID,
            "role": "authenticated",
            "aud": "authenticated",
            "aal": "aal1",
            "app_metadata": {SYSTEM_CLAIM: SWEEPER_SYSTEM},
        },
        token="",
    )


def sign_in(
    auth: AuthBackend, email: str | None, password: str | None, verifier: TokenVerifier
) -> SweeperSession:
    """Password sign-in of the sweeper account through the portal's auth backend (GoTrue's password grant in
    production); the token is verified and must carry the sweeper claim."""
    if not email or not password:
        raise SweeperError(
            "the storage sweeper account is not configured: set NEXK_STORAGE_SWEEPER_EMAIL and "
            "NEXK_STORAGE_SWEEPER_PASSWORD (pulumi up sets both on the Vercel project)"
        )
    try:
        token = auth.sign_in_password(email, password, ip=None, user_agent=None).access_token
    except AuthError as exc:
        raise SweeperError(
            f"the storage sweeper account could not sign in ({exc}): check its e-mail and password in the "
            "Vercel project, or rotate them with pulumi up (docs/ops.md)"
        ) from None
    try:
        claims = verifier.verify(token)
    except InvalidToken as exc:
        raise SweeperError(f"the sweeper's access token did not verify: {exc}") from None
    if (claims.get("app_metadata") or {}).get(SYSTEM_CLAIM) != SWEEPER_SYSTEM:
        raise SweeperError(
            f"{email} is not the storage sweeper account (its app_metadata lacks nexk_system={SWEEPER_SYSTEM})"
        )
    return SweeperSession(claims=claims, token=token)


def sweep(
    database: Database, storage: AttachmentStorage, session: SweeperSession, *, max_batches: int = 10
) -> SweepResult:
    """Delete queued objects batch by batch; stops at the first failing batch (it stays queued)."""
    result = SweepResult()
    for _ in range(max_batches):
        with database.rls_transaction(session.claims, read_only=True) as conn:
            # The sweeper's policies show it the queued objects and nothing else.
            names = [
                row["name"]
                for row in conn.execute(
                    "select o.name from storage.objects as o where o.bucket_id = %s order by o.name limit %s",
                    (BUCKET, BATCH_SIZE),
                ).fetchall()
            ]
        if not names:
            break
        result.queued += len(names)
        try:
            deleted = storage.delete(session.claims, session.token, names)
        except StorageUnavailable as exc:
            result.errors.append(str(exc))
            log.warning("storage sweep: %s (the batch stays queued)", exc)
            break
        result.deleted += len(deleted)
        if len(deleted) < len(names):
            result.errors.append(f"{len(names) - len(deleted)} queued objects were not deleted")
            break
    return result


def session_for(settings: Settings, auth: AuthBackend, verifier: TokenVerifier) -> SweeperSession:
    """The sweeper's identity for these settings: the system account in prod, local claims in dev."""
    if not settings.is_prod:
        return local_session()
    return sign_in(auth, settings.storage_sweeper_email, settings.storage_sweeper_password, verifier)


def sweep_now(state: Any) -> SweepResult:
    """One sweep with the portal's parts (`app.state`: settings, auth, verifier, database, storage) that never
    raises: a failure is logged and reported, and the queue waits for the cron."""
    try:
        return sweep(state.database, state.storage, session_for(state.settings, state.auth, state.verifier))
    except (SweeperError, StorageUnavailable) as exc:
        log.warning("storage sweep: %s (the objects stay queued for the next run)", exc)
        return SweepResult(errors=[str(exc)])
