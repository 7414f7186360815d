"""The ASGI application: `create_app()` wires settings, the RLS database, auth and storage; `app` is what
Vercel and uvicorn serve (`app.main:app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app import errors
from app.auth import AuthBackend
from app.auth.live_sessions import LiveSessions
from app.auth.tokens import TokenVerifier
from app.database import Database
from app.head import HeadAsGetMiddleware
from app.i18n import LanguageMiddleware
from app.rate_limits import RateLimits
from app.routes import (
    admin,
    agent,
    api,
    attachments,
    auth,
    cron,
    favicon,
    mail_sink,
    my_data,
    privacy,
    profile,
    team,
    tickets,
    webhooks,
)
from app.security import SecurityHeadersMiddleware, require_csrf
from app.sessions import SessionMiddleware
from app.settings import Settings, get_settings
from app.storage import AttachmentStorage, LocalStorage, SupabaseStorage
from app.timing import ServerTimingMiddleware

STATIC_DIR = Path(__file__).parent / "static"


def auth_backend_for(settings: Settings) -> AuthBackend:
    if settings.is_prod:
        from app.auth.supabase import SupabaseAuth

        return SupabaseAuth(settings.supabase_url or "", settings.supabase_publishable_key or "")
    from app.auth.local import LocalAuth

    if not settings.auth_database_url:
        raise RuntimeError("the local auth adapter needs auth_database_url (the local owner DSN)")
    return LocalAuth(
        settings.auth_database_url,
        settings.session_secret,
        access_seconds=settings.access_token_seconds,
        refresh_seconds=settings.refresh_token_seconds,
    )


def verifier_for(settings: Settings, sessions: LiveSessions | None = None) -> TokenVerifier:
    """The token check; with `sessions`, tokens of a signed-out session are refused too (the portal's)."""
    check = sessions.is_live if sessions is not None else None
    if settings.is_prod:
        base = f"{settings.supabase_url}/auth/v1"
        return TokenVerifier(jwks_url=f"{base}/.well-known/jwks.json", issuer=base, session_is_live=check)
    return TokenVerifier(secret=settings.session_secret, session_is_live=check)


def storage_for(settings: Settings, database: Database) -> AttachmentStorage:
    if settings.is_prod:
        return SupabaseStorage(settings.supabase_url or "", settings.supabase_publishable_key or "")
    return LocalStorage(settings.uploads_dir, database)


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or get_settings()
        database = Database(config.database_url, min_size=config.pool_min_size, max_size=config.pool_max_size)
        database.open()
        backend = auth_backend_for(config)
        backend.open()
        app.state.settings = config
        app.state.database = database
        app.state.auth = backend
        app.state.live_sessions = LiveSessions(database)
        app.state.verifier = verifier_for(config, app.state.live_sessions)
        app.state.storage = storage_for(config, database)
        app.state.rate_limits = RateLimits(database, config.session_secret)
        try:
            yield
        finally:
            backend.close()
            database.close()

    app = FastAPI(
        title="myNexK portal API",
        version="1.0.0",
        description="Tickets and messages of NexK IT Solutions' support portal. Every call runs under the "
        "database's row-level security as the caller identified by the bearer token (a Supabase access token).",
        lifespan=lifespan,
        dependencies=[Depends(require_csrf)],
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    errors.install(app)
    app.add_middleware(SessionMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ServerTimingMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(LanguageMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (auth, tickets, agent, attachments, profile, admin, mail_sink, webhooks, cron):
        app.include_router(module.router, include_in_schema=False)
    for module in (privacy, my_data, team, favicon):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(api.router)
    app.openapi = lambda: api.openapi_document(app)  # type: ignore[method-assign]
    return app


app = create_app()
