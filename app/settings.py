"""The portal's settings: one typed model, read once from the environment.

`NEXK_ENV=dev` (the default) runs against the local cluster with the built-in auth adapter; `prod` expects
Supabase: `NEXK_PORTAL_DATABASE_URL` (the transaction pooler, logged in as `nexk_portal`; TLS 1.3 and a
certificate from Supabase's root are required on it, app/tls.py), `SUPABASE_URL` (https), `SUPABASE_PUBLISHABLE_KEY`
and `NEXK_SESSION_SECRET`. Dev reads the same `NEXK_PORTAL_DATABASE_URL` when set, else the local cluster's.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from app.tls import require_tls_dsn
from nexk.errors import NexkError
from nexk.paths import state_dir
from nexk.portal_env import PORTAL_DATABASE_URL

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class Settings(BaseModel):
    env: Literal["dev", "prod"] = "dev"
    # The DSN the request pool logs in with: the `nexk_portal` login, which may only set role anon or
    # authenticated (db/schema/0375); the pool refuses any other at start (app/database.py).
    database_url: str
    # Dev only: the owner DSN the built-in GoTrue emulation uses for auth.* (see app/auth/local.py).
    auth_database_url: str | None = None
    supabase_url: str | None = None
    supabase_publishable_key: str | None = None
    # Signs the local access tokens (dev) and the CSRF tokens (both).
    session_secret: str = Field(min_length=32, repr=False)
    uploads_dir: Path = Path(".nexk/uploads")
    # Dev only: where `nexk notifications worker` writes e-mails without a Brevo key, read by /dev/mail.
    mail_sink_dir: Path = Path(".nexk/mail-sink")  # app.notifications.sink.DEFAULT_SINK_DIR
    pool_min_size: int = 2
    pool_max_size: int = 10
    access_token_seconds: int = 900
    refresh_token_seconds: int = 7 * 24 * 3600
    # Cookies carry `Secure` everywhere but plain-http test servers on loopback.
    secure_cookies: bool = True
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    # Prod: the storage sweeper system account (app/storage_sweep.py); dev uses local claims instead.
    storage_sweeper_email: str | None = None
    storage_sweeper_password: str | None = Field(default=None, repr=False)

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"


def _dev_secret(folder: Path) -> str:
    """A per-checkout secret in .nexk/portal-secret (0600), created on first use and never committed."""
    path = folder / "portal-secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret


def load_settings() -> Settings:
    """Settings from the environment; a missing production variable is named in the error."""
    env = os.environ.get("NEXK_ENV", "dev")
    if env == "prod":
        missing = [
            name
            for name in (
                PORTAL_DATABASE_URL,
                "SUPABASE_URL",
                "SUPABASE_PUBLISHABLE_KEY",
                "NEXK_SESSION_SECRET",
            )
            if not os.environ.get(name)
        ]
        if PORTAL_DATABASE_URL in missing and os.environ.get("DATABASE_URL"):
            raise NexkError(
                f"NEXK_ENV=prod needs {PORTAL_DATABASE_URL}: DATABASE_URL (the owner's pooler URL) is no longer "
                "read; `pulumi up` sets the nexk_portal login's URL on Vercel (docs/ops.md)"
            )
        if missing:
            raise NexkError(f"NEXK_ENV=prod needs these environment variables: {', '.join(missing)}")
        supabase_url = os.environ["SUPABASE_URL"].rstrip("/")
        if not supabase_url.startswith("https://"):
            raise NexkError(
                "SUPABASE_URL must start with https:// in production: Auth, Storage and the signing keys are "
                "only reached over TLS 1.3 (the privacy policy's promise); use the project's https URL"
            )
        return Settings(
            env="prod",
            # The pool reaches Supabase's pooler over the network: TLS 1.3 required, weaker settings refused.
            database_url=require_tls_dsn(os.environ[PORTAL_DATABASE_URL], name=PORTAL_DATABASE_URL),
            supabase_url=supabase_url,
            supabase_publishable_key=os.environ["SUPABASE_PUBLISHABLE_KEY"],
            session_secret=os.environ["NEXK_SESSION_SECRET"],
            # Optional here: only the storage sweep needs them, and it says so when they are missing.
            storage_sweeper_email=os.environ.get("NEXK_STORAGE_SWEEPER_EMAIL"),
            storage_sweeper_password=os.environ.get("NEXK_STORAGE_SWEEPER_PASSWORD"),
        )
    if env != "dev":
        raise NexkError(f"NEXK_ENV must be 'dev' or 'prod', not {env!r}")
    from db.connection import database_url, portal_database_url

    home = state_dir()
    return Settings(
        env="dev",
        database_url=portal_database_url(),
        auth_database_url=database_url(),
        session_secret=os.environ.get("NEXK_SESSION_SECRET") or _dev_secret(home),
        uploads_dir=home / "uploads",
        secure_cookies=os.environ.get("NEXK_INSECURE_COOKIES") != "1",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
