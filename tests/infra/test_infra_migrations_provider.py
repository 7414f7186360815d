"""DatabaseMigrations: its diff is the set of pending migrations and changed policy files (no database needed)."""

from __future__ import annotations

from infra.providers.migrations import DatabaseMigrationsProvider, migration_diff

OLD = {
    "project_ref": "abcd",
    "database_url": "postgresql://u:p@h:5432/postgres",
    "migrations": {"0001_private_schema.sql": "a1", "0002_tickets.sql": "b2"},
    "policies": {"tickets.sql": "c3", "profiles.sql": "d4"},
}


def test_a_new_migration_file_is_pending_and_triggers_an_update() -> None:
    news = {**OLD, "migrations": {**OLD["migrations"], "0003_sla.sql": "e5"}}

    diff = DatabaseMigrationsProvider().diff("abcd/migrations", OLD, news)

    assert migration_diff(OLD, news).pending_migrations == ("0003_sla.sql",)
    assert diff.changes is True and diff.replaces == []


def test_a_changed_or_removed_policy_file_triggers_an_update() -> None:
    news = {**OLD, "policies": {"tickets.sql": "c3-changed"}}

    diff = migration_diff(OLD, news)

    assert diff.changed_policies == ("tickets.sql",)
    assert diff.removed_policies == ("profiles.sql",)
    assert DatabaseMigrationsProvider().diff("id", OLD, news).changes is True


def test_unchanged_files_mean_no_change() -> None:
    assert DatabaseMigrationsProvider().diff("id", OLD, dict(OLD)).changes is False


def test_a_new_database_url_runs_the_idempotent_runner_again() -> None:
    # checkov:skip=CKV_SECRET_4: a fixture connection string (fake host h, fake password)
    news = {**OLD, "database_url": "postgresql://u:rotated@h:5432/postgres"}
    assert DatabaseMigrationsProvider().diff("id", OLD, news).changes is True


def test_editing_an_applied_migration_is_refused_naming_the_file() -> None:
    news = {**OLD, "migrations": {**OLD["migrations"], "0002_tickets.sql": "edited"}}

    failures = DatabaseMigrationsProvider().check(OLD, news).failures

    assert len(failures) == 1
    assert "db/schema/0002_tickets.sql changed after it was applied" in failures[0].reason


def test_removing_an_applied_migration_is_refused() -> None:
    news = {**OLD, "migrations": {"0001_private_schema.sql": "a1"}}

    failures = DatabaseMigrationsProvider().check(OLD, news).failures

    assert [f.reason for f in failures] == [
        "db/schema/0002_tickets.sql was applied and can not be removed: restore it"
    ]


def test_the_first_deployment_accepts_any_file_set() -> None:
    assert DatabaseMigrationsProvider().check({}, dict(OLD)).failures == []
