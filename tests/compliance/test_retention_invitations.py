"""`nexk retention run` also deletes invitations nobody accepted, once expired for the period the database states
(private.retention_policy `expired_invitations_after_expiry`, db/schema/0280), and reports them, dry or not."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import psycopg
from typer.testing import CliRunner

from compliance import retention, retention_cli

NOW = datetime(2026, 11, 26, 3, 23, tzinfo=UTC)
STEP = "invitations: expired invitations deleted"


def invitation(db: psycopg.Connection, email: str, expired_at: datetime) -> None:
    db.execute(
        "insert into private.invitations (email, role, first_name, surname, nonce_hash, created_at, expires_at)"
        " values (%s, 'agent', 'Ina', 'Vited', %s, %s, %s)",
        (email, hashlib.sha256(email.encode()).hexdigest(), expired_at - timedelta(days=7), expired_at),
    )


def remaining(db: psycopg.Connection) -> list[str]:
    return [r[0] for r in db.execute("select email from private.invitations order by email")]


def test_invitations_expired_for_more_than_30_days_are_deleted_and_a_dry_run_only_reports_them(
    db: psycopg.Connection, database: str
) -> None:
    invitation(db, "long.gone@example.test", NOW - timedelta(days=31))
    invitation(db, "just.expired@example.test", NOW - timedelta(days=2))
    invitation(db, "pending@example.test", NOW + timedelta(days=5))

    dry = retention.run(database, now=NOW, dry_run=True)
    assert dry.counts[STEP] == 1
    assert remaining(db) == ["just.expired@example.test", "long.gone@example.test", "pending@example.test"]

    real = retention.run(database, now=NOW)
    assert real.counts[STEP] == 1
    assert remaining(db) == ["just.expired@example.test", "pending@example.test"]
    assert retention.run(database, now=NOW).counts[STEP] == 0


def test_the_cli_dry_run_lists_the_invitation_step(
    db: psycopg.Connection, database: str, monkeypatch
) -> None:
    monkeypatch.setenv("NEXK_DATABASE_URL", database)
    invitation(db, "long.gone@example.test", NOW - timedelta(days=40))

    result = CliRunner().invoke(retention_cli.app, ["run", "--dry-run", "--now", "2026-11-26"])

    assert result.exit_code == 0, result.output
    assert STEP in result.output
    assert remaining(db) == ["long.gone@example.test"]
