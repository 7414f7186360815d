"""DatabaseMigrations: `pulumi up` applies db/schema, db/functions and db/policies to the Supabase database.

The inputs are the sha256 of every migration, function and policy file, keyed by file name, so `pulumi
preview` shows the pending migrations and the changed function and policy files as the resource's property
diff; `squashed` holds the files a baseline migration replaced (db/schema/0362_baseline.sql), so that their
leaving the tree is not a removal. The work itself is done by
the project's migration runner (`db.migrate`), imported only inside the provider methods: the program and the
policy pack never need psycopg.

`cron_jobs` names the pg_cron jobs the migrations schedule (nexk/cron_jobs.py: {job name: schedule}): after
the runner, create and update read cron.job and fail, naming the job, unless each of them is scheduled, active
and at that schedule, so a stack whose nightly retention purge is not scheduled never deploys green; the policy
pack refuses a stack that does not declare the retention job here (infra/policy/policies.py).

Rules a reviewer relies on:
- an applied migration is never edited or removed (check fails and names the file: add a new migration),
  except that files squashed into a baseline leave the tree with exactly the checksums it lists;
- deleting the resource does nothing to the database (the schema outlives the Pulumi resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.base import Provider, is_unknown, with_secret_outputs
from nexk.cron_jobs import schedules as cron_job_schedules


@dataclass(frozen=True)
class MigrationDiff:
    """What `pulumi up` would do to the database, from old and new file checksums alone."""

    pending_migrations: tuple[str, ...]
    changed_policies: tuple[str, ...]
    removed_policies: tuple[str, ...]
    edited_migrations: tuple[str, ...]
    removed_migrations: tuple[str, ...]
    changed_functions: tuple[str, ...] = ()
    squashed_migrations: tuple[str, ...] = ()  # left the tree into a baseline, with the checksum it lists

    @property
    def changes(self) -> bool:
        return bool(
            self.pending_migrations
            or self.changed_policies
            or self.removed_policies
            or self.changed_functions
            or self.squashed_migrations
        )


def migration_diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> MigrationDiff:
    old_m: Mapping[str, str] = olds.get("migrations") or {}
    new_m: Mapping[str, str] = news.get("migrations") or {}
    old_p: Mapping[str, str] = olds.get("policies") or {}
    new_p: Mapping[str, str] = news.get("policies") or {}
    old_f: Mapping[str, str] = olds.get("functions") or {}
    new_f: Mapping[str, str] = news.get("functions") or {}
    squashed: Mapping[str, str] = news.get("squashed") or {}
    gone = [name for name in old_m if name not in new_m]
    return MigrationDiff(
        pending_migrations=tuple(sorted(name for name in new_m if name not in old_m)),
        changed_policies=tuple(sorted(name for name, sha in new_p.items() if old_p.get(name) != sha)),
        removed_policies=tuple(sorted(name for name in old_p if name not in new_p)),
        edited_migrations=tuple(
            sorted(name for name, sha in new_m.items() if name in old_m and old_m[name] != sha)
        ),
        removed_migrations=tuple(sorted(name for name in gone if squashed.get(name) != old_m[name])),
        changed_functions=tuple(
            sorted({name for name, sha in new_f.items() if old_f.get(name) != sha} | set(old_f) - set(new_f))
        ),
        squashed_migrations=tuple(sorted(name for name in gone if squashed.get(name) == old_m[name])),
    )


def file_checksums() -> tuple[dict[str, str], dict[str, str]]:
    """(migrations, policies) as {file name: sha256}, from the runner's own loaders."""
    from db.migrate import load_migrations, load_policies

    return (
        {file.path.name: file.sha256 for file in load_migrations()},
        {file.path.name: file.sha256 for file in load_policies()},
    )


def function_checksums() -> dict[str, str]:
    """db/functions as {file name: sha256}, in the order the runner applies them."""
    from db.migrate import load_functions

    return {file.path.name: file.sha256 for file in load_functions()}


def squashed_checksums() -> dict[str, str]:
    """{file name: sha256} of the migrations a baseline in db/schema replaced (its `-- nexk: replaces` lines)."""
    from db.migrate import load_migrations

    return {
        f"{version}_{name}.sql": sha
        for baseline in load_migrations()
        for version, (name, sha) in baseline.replaces.items()
    }


def cron_job_problems(expected: Mapping[str, str], scheduled: Mapping[str, tuple[str, bool]]) -> list[str]:
    """What cron.job ({name: (schedule, active)}) lacks of the `expected` jobs ({name: schedule})."""
    problems = []
    for name, schedule in sorted(expected.items()):
        found = scheduled.get(name)
        if found is None:
            problems.append(f"{name} is not scheduled (no row in cron.job)")
        elif found != (schedule, True):
            problems.append(
                f"{name} is scheduled at {found[0]!r}, active {found[1]}; expected {schedule!r}, active"
            )
    return problems


def verify_cron_jobs(database_url: str, expected: Mapping[str, str]) -> None:
    """Raise, naming each job, unless cron.job holds every expected job active at its schedule."""
    if not expected:
        return
    import psycopg

    with psycopg.connect(database_url, prepare_threshold=None) as conn:
        if conn.execute("select pg_catalog.to_regclass('cron.job')").fetchone() in (None, (None,)):
            scheduled: dict[str, tuple[str, bool]] = {}
        else:
            rows = conn.execute("select jobname, schedule, active from cron.job where jobname is not null")
            scheduled = {name: (schedule, active) for name, schedule, active in rows}
    problems = cron_job_problems(expected, scheduled)
    if problems:
        raise RuntimeError(
            "the migrations ran but pg_cron does not hold the jobs they schedule: "
            + "; ".join(problems)
            + " (db/schema/0377_pg_cron.sql schedules them; cron.job lists what pg_cron holds)"
        )


class DatabaseMigrationsProvider(Provider):
    """Runs `db.migrate.migrate()` against the project's database on create and update."""

    INPUTS = ("project_ref", "migrations", "policies", "functions", "squashed", "database_url", "cron_jobs")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if not news.get("database_url"):
            failures.append(CheckFailure("database_url", "database_url is required"))
        for key in ("migrations", "policies", "functions", "squashed"):
            if key in ("functions", "squashed") and key not in news:
                continue  # a state written before db/functions and the baseline existed
            if not isinstance(news.get(key), Mapping):
                failures.append(CheckFailure(key, f"{key} must map file names to sha256 checksums"))
        if olds and not failures:
            diff = migration_diff(olds, news)
            for name in diff.edited_migrations:
                failures.append(
                    CheckFailure(
                        "migrations",
                        f"db/schema/{name} changed after it was applied: restore it and add a new migration",
                    )
                )
            for name in diff.removed_migrations:
                failures.append(
                    CheckFailure(
                        "migrations",
                        f"db/schema/{name} was applied and can not be removed: restore it (or list it in a "
                        "baseline's `-- nexk: replaces` lines with its checksum, docs/migrations.md)",
                    )
                )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = migration_diff(olds, news).changes
        # A new database (project replaced, password rotated) needs the runner again; it is idempotent.
        url_changed = olds.get("database_url") != news.get("database_url") or is_unknown(
            news.get("database_url")
        )
        project_changed = olds.get("project_ref") != news.get("project_ref")
        jobs_changed = olds.get("cron_jobs") != news.get("cron_jobs")
        return DiffResult(
            changes=changes or url_changed or project_changed or jobs_changed, replaces=[], stables=[]
        )

    @staticmethod
    def _run(props: Mapping[str, Any]) -> dict[str, Any]:
        from db.migrate import migrate

        plan = migrate(props["database_url"])
        verify_cron_jobs(props["database_url"], props.get("cron_jobs") or {})
        outs = {key: props[key] for key in DatabaseMigrationsProvider.INPUTS if key in props}
        outs["last_applied"] = {
            "migrations": [file.path.name for file in plan.pending_migrations],
            "policies": [file.path.name for file in plan.changed_policies],
            "functions": [file.path.name for file in plan.changed_functions],
        }
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props.get('project_ref', 'database')}/migrations", self._run(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._run(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Refresh reports what the database has really applied: whatever the runner still plans to do is left
        # out of the state, so the next preview shows it as pending.
        from db.migrate import plan

        todo = plan(props["database_url"])
        pending = {file.path.name for file in todo.pending_migrations}
        changed = {file.path.name for file in todo.changed_policies}
        changed_functions = {file.path.name for file in todo.changed_functions}
        outs = dict(props)
        outs["migrations"] = {k: v for k, v in (props.get("migrations") or {}).items() if k not in pending}
        outs["policies"] = {k: v for k, v in (props.get("policies") or {}).items() if k not in changed}
        if "functions" in props:
            outs["functions"] = {
                k: v for k, v in (props.get("functions") or {}).items() if k not in changed_functions
            }
        return ReadResult(id_, outs, {key: outs[key] for key in self.INPUTS if key in outs})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Never drops anything: the data outlives the resource."""


class DatabaseMigrations(Resource, module="supabase", name="DatabaseMigrations"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        database_url: pulumi.Input[str],
        migrations: Mapping[str, str],
        policies: Mapping[str, str],
        functions: Mapping[str, str] | None = None,
        squashed: Mapping[str, str] | None = None,
        cron_jobs: Mapping[str, str] | None = None,
        provider: DatabaseMigrationsProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # db/functions, the baseline's squashed files and the pg_cron jobs are read here when the caller does
        # not pass them.
        props = {
            "project_ref": project_ref,
            "database_url": database_url,
            "migrations": dict(migrations),
            "policies": dict(policies),
            "functions": dict(function_checksums() if functions is None else functions),
            "squashed": dict(squashed_checksums() if squashed is None else squashed),
            "cron_jobs": dict(cron_job_schedules() if cron_jobs is None else cron_jobs),
        }
        opts = with_secret_outputs(opts, "database_url")
        super().__init__(provider or DatabaseMigrationsProvider(), resource_name, props, opts)
