"""DatabaseRolePassword: the notifier role gets its generated password (hashed client-side), loses it on delete,
and the worker's URL is the pooler URL with that role's credentials."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infra.providers.database_role import DatabaseRolePasswordProvider, role_database_url

HOST = "aws-0-eu-central-1.pooler.supabase.com"


def url(user: str, password: str, port: int = 6543) -> str:
    # Built from parts so no literal credentials sit in the file.
    return "postgresql://" + user + ":" + password + "@" + HOST + ":" + str(port) + "/postgres"


def test_the_worker_url_is_the_pooler_url_with_the_roles_tenant_user_and_encoded_password() -> None:
    owner_password, role_password = secrets.token_hex(8), "a/b@c:" + secrets.token_hex(4)
    worker = role_database_url(url("postgres.abcdefgh", owner_password), "nexk_notifier", role_password)
    parts = conninfo_to_dict(worker)
    assert (parts["user"], parts["password"], parts["host"], parts["port"]) == (
        "nexk_notifier.abcdefgh",
        role_password,
        HOST,
        "6543",
    )
    assert owner_password not in worker
    local = conninfo_to_dict(role_database_url(url("postgres", owner_password, 5432), "nexk_notifier", "x"))
    assert local["user"] == "nexk_notifier"


def test_check_refuses_a_missing_password_or_an_odd_role_name_and_a_role_change_replaces() -> None:
    provider = DatabaseRolePasswordProvider()
    news = {"project_ref": "ref", "database_url": "postgresql:///x", "role": "Nexk Notifier", "password": ""}
    reasons = [f.reason for f in provider.check({}, news).failures]
    assert "password is required" in reasons
    assert any("not a lower-case PostgreSQL role name" in r for r in reasons)
    olds = {**news, "role": "nexk_notifier", "password": "p1"}
    assert provider.diff("id", olds, {**olds, "password": "p2"}).replaces == []
    assert provider.diff("id", olds, {**olds, "password": "p2"}).changes is True
    assert provider.diff("id", olds, {**olds, "role": "other"}).replaces == ["role"]
    assert provider.diff("id", olds, dict(olds)).changes is False


def test_create_sets_a_scram_password_the_role_logs_in_with_and_delete_removes_it(database: str) -> None:
    password = secrets.token_urlsafe(24)
    props = {"project_ref": "local", "database_url": database, "role": "nexk_notifier", "password": password}
    provider = DatabaseRolePasswordProvider()
    notifier = make_conninfo(database, user="nexk_notifier", password=password)
    try:
        assert provider.create(props).id == "local/roles/nexk_notifier"
        with psycopg.connect(database) as owner:
            stored = owner.execute(
                "select rolpassword from pg_authid where rolname = 'nexk_notifier'"
            ).fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$") and password not in stored
        with psycopg.connect(notifier) as conn:
            assert conn.execute("select current_user").fetchone() == ("nexk_notifier",)
    finally:
        provider.delete("local/roles/nexk_notifier", props)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(notifier).close()
