"""Fixtures for the portal: a small world written with the owner connection, and the app configured to log in
as `nexk_portal` on the same fresh test database (exactly as in production: RLS is the only gatekeeper)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import SECRET, World

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def world(db: psycopg.Connection) -> World:
    w = World(db)
    w.org("a")
    w.org("b")
    w.person("member_a", "client_member", "a")
    w.person("admin_a", "client_admin", "a")
    w.person("member_b", "client_member", "b")
    w.person("agent", "agent", totp=True)
    w.person("agent_b", "agent", totp=True)
    w.assign("agent", "a")
    w.assign("agent_b", "b")
    w.ticket("a1", "member_a", subject="Printer on fire", priority="urgent")
    w.ticket("a2", "admin_a", subject="VPN is slow")
    w.ticket("b1", "member_b", subject="Secret project of B")
    w.message("a1", "agent", "Internal: check the toner supplier", internal=True)
    w.message("a1", "agent", "We are on it.")
    return w


@pytest.fixture
def portal_settings(database: str, pg_server: Any, tmp_path: Path) -> Settings:
    return Settings(
        env="dev",
        database_url=pg_server.portal_url(database),
        auth_database_url=database,
        session_secret=SECRET,
        uploads_dir=tmp_path / "uploads",
        mail_sink_dir=tmp_path / "mail-sink",
        pool_min_size=1,
        pool_max_size=4,
        secure_cookies=False,
    )


@pytest.fixture
def portal(portal_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(portal_settings), raise_server_exceptions=False) as client:
        yield client
