"""DatabaseMigrations: its diff is the set of pending migrations and changed function and policy files (no
database needed); migrations squashed into a baseline may leave the tree, no other applied one."""

from __future__ import annotations

from db import migrate as runner
from infra.providers.migrations import (
    DatabaseMigrationsProvider,
    function_checksums,
    migration_diff,
    squashed_checksums,
)

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
        "db/schema/0002_tickets.sql was applied and can not be removed: restore it (or list it in a baseline's "
        "`-- nexk: replaces` lines with its checksum, docs/migrations.md)"
    ]


def test_the_first_deployment_accepts_any_file_set() -> None:
    assert DatabaseMigrationsProvider().check({}, dict(OLD)).failures == []


def test_a_changed_functions_file_triggers_an_update() -> None:
    olds = {**OLD, "functions": {"erasure.sql": "f1", "dsr.sql": "f2"}}
    news = {**OLD, "functions": {"erasure.sql": "f1-changed", "dsr.sql": "f2"}}

    assert migration_diff(olds, news).changed_functions == ("erasure.sql",)
    assert DatabaseMigrationsProvider().diff("id", olds, news).changes is True
    assert DatabaseMigrationsProvider().diff("id", olds, dict(olds)).changes is False


def test_migrations_squashed_into_a_baseline_may_leave_the_tree_with_the_checksums_it_lists() -> None:
    news = {
        **OLD,
        "migrations": {"0002_baseline.sql": "z9"},
        "squashed": {"0001_private_schema.sql": "a1", "0002_tickets.sql": "b2"},
    }

    assert DatabaseMigrationsProvider().check(OLD, news).failures == []
    assert migration_diff(OLD, news).squashed_migrations == ("0001_private_schema.sql", "0002_tickets.sql")
    assert (
        DatabaseMigrationsProvider().diff("id", OLD, news).changes is True
    )  # the runner records the baseline


def test_a_squashed_file_whose_checksum_differs_is_still_a_removal() -> None:
    news = {
        **OLD,
        "migrations": {"0002_baseline.sql": "z9"},
        "squashed": {"0001_private_schema.sql": "a1", "0002_tickets.sql": "other"},
    }

    reasons = [f.reason for f in DatabaseMigrationsProvider().check(OLD, news).failures]

    assert len(reasons) == 1 and reasons[0].startswith(
        "db/schema/0002_tickets.sql was applied and can not be removed"
    )


def test_the_resource_ships_the_repositorys_functions_and_baseline() -> None:
    functions, squashed = function_checksums(), squashed_checksums()
    assert "erasure.sql" in functions and len(squashed) == 38
    assert squashed["0103_dsr_erasure.sql"] == runner.load_migrations()[0].replaces["0103"][1]
