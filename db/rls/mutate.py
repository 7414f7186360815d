"""Mutation testing of the RLS policies: apply each mutant to a fresh database copy and run the killers.

How a mutant reaches a database: the unmutated db/ is migrated once into a template database that also
holds the killers' fixed world (db/rls/killers.py). Each mutant gets `create database ... template` (a
file-level copy, well under a second) and then, in one transaction:
- a policy-file mutant: the runner's own re-application of that file (db/migrate.py: drop every policy of
  the file's tables, run the file), preceded by `no force` + `disable row level security` on the tables
  the file enables RLS on, so the mutated file alone decides the final state (a dropped FORCE stays dropped);
- a schema mutant (a helper's search_path, a view's security_invoker): the mutated `create or replace`
  statement of that migration, replayed (create-or-replace replaces the function's SET options too).
That database is then exactly what `migrate` would have built from the mutated files. The isolation suite
runs on it first (it loads and rolls back its own worlds, so it needs the database empty), then the
fixed world of db/rls/killers.py is written as the owner and the attack catalogue runs.

Killers, in order, stopping at the first that finds a violation (`--all-killers` runs them all):
the isolation suite `db.rls.probe.run_isolation` (when it has landed), then the fixed-world attack
catalogue (reads, writes, columns) and last the README §5 structural invariants. A mutant killed only by
`structure` is behaviourally equivalent under the API roles; the report says so. Documented equivalent
mutants (db/rls/equivalent-mutants.yaml) are still run and printed, and counted apart from the score.
"""

from __future__ import annotations

import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import yaml
from psycopg import sql
from psycopg.conninfo import make_conninfo

from db import migrate as runner
from db.rls import killers
from db.rls.mutants import Mutant, derive, source_texts

if TYPE_CHECKING:
    from rich.console import Console

    from db.rls.probe import Report as IsolationReport
from nexk.errors import NexkError

EQUIVALENT_FILE = Path(__file__).with_name("equivalent-mutants.yaml")
DEFAULT_EXAMPLES = 3
DEFAULT_SEED = 20261126


@dataclass
class Result:
    id: str
    operator: str
    table: str
    where: str
    description: str
    status: str  # "killed", "survived", "equivalent" (documented and survived), "equivalent-killed"
    killed_by: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # the first violations, for people
    behavioural: bool = False  # killed by a behavioural check (not only the structural invariants)
    seconds: float = 0.0
    equivalent_reason: str | None = None


@dataclass
class Report:
    results: list[Result]
    seconds: float
    workers: int
    isolation: bool  # whether run_isolation was available and used

    @property
    def counted(self) -> list[Result]:
        return [r for r in self.results if r.equivalent_reason is None]

    @property
    def killed(self) -> int:
        return sum(r.status == "killed" for r in self.counted)

    @property
    def survived(self) -> list[Result]:
        return [r for r in self.counted if r.status == "survived"]

    @property
    def score(self) -> float:
        return 100.0 * self.killed / len(self.counted) if self.counted else 100.0

    def as_dict(self) -> dict:
        equivalent = [r for r in self.results if r.equivalent_reason is not None]
        return {
            "total": len(self.results),
            "counted": len(self.counted),
            "killed": self.killed,
            "survived": len(self.survived),
            "equivalent": len(equivalent),
            "killed_behaviourally": sum(r.behavioural for r in self.counted if r.status == "killed"),
            "killed_structurally_only": sum(
                (not r.behavioural) for r in self.counted if r.status == "killed"
            ),
            "score_percent": round(self.score, 2),
            "seconds": round(self.seconds, 1),
            "workers": self.workers,
            "isolation_suite": self.isolation,
            "mutants": [asdict(r) for r in self.results],
        }


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {entry["id"]: entry["reason"] for entry in data.get("equivalent", []) or []}


def _isolation() -> Callable[..., IsolationReport] | None:
    try:
        from db.rls.probe import run_isolation  # the isolation engineer's suite (may not have landed)
    except ImportError:
        return None
    return run_isolation


# --- databases ------------------------------------------------------------------------------------------


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(server_url, autocommit=True)


def _drop(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@contextmanager
def template_database(server_url: str) -> Iterator[str]:
    """The unmutated db/ migrated (no data: the isolation suite loads its own worlds); dropped afterwards."""
    name = f"nexk_mut_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        url = make_conninfo(server_url, dbname=name)
        runner.migrate(url)
        with _admin(server_url) as conn:
            conn.execute(sql.SQL("alter database {} is_template true").format(sql.Identifier(name)))
        yield name
    finally:
        with _admin(server_url) as conn:
            conn.execute(sql.SQL("alter database {} is_template false").format(sql.Identifier(name)))
        _drop(server_url, name)


@contextmanager
def database_copy(server_url: str, template: str) -> Iterator[str]:
    name = f"nexk_mut_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin(server_url) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        _drop(server_url, name)


def apply_mutant(dsn: str, mutant: Mutant, texts: dict[str, str]) -> None:
    """Make the database at `dsn` (a copy of the template) what the mutated files would have built."""
    mutated = mutant.apply(texts)[mutant.file]
    with psycopg.connect(dsn) as conn:
        if mutant.kind == "policy":
            original = runner.PolicyFile(path=runner.DB_DIR / mutant.file)
            for table in original.tables():
                if f"alter table {table} enable row level security" in original.sql:
                    conn.execute(sql.SQL("alter table {} no force row level security").format(sql.SQL(table)))
                    conn.execute(sql.SQL("alter table {} disable row level security").format(sql.SQL(table)))
                runner._drop_policies(conn, table)
            statements = _split(mutated)
        else:
            statements = [mutant.statement]
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def _split(text: str) -> list[str]:
    import pglast

    return [text[s] for s in pglast.split(text, with_parser=True, only_slices=True)]


# --- one mutant -----------------------------------------------------------------------------------------


def run_mutant(
    server_url: str,
    template: str,
    mutant: Mutant,
    texts: dict[str, str],
    *,
    equivalents: dict[str, str],
    examples: int,
    seed: int,
    all_killers: bool,
) -> Result:
    started = time.perf_counter()
    result = Result(
        mutant.id, mutant.operator, mutant.table, mutant.where, mutant.description, "survived",
        equivalent_reason=equivalents.get(mutant.id),
    )  # fmt: skip
    with database_copy(server_url, template) as dsn:
        try:
            apply_mutant(dsn, mutant, texts)
        except psycopg.Error as exc:
            # PostgreSQL refused the mutated SQL: a mutant that cannot be deployed is not a weakness.
            result.killed_by.append("apply")
            result.evidence.append(f"the mutated SQL does not apply: {exc.diag.message_primary or exc}")
        else:
            _kill(dsn, result, examples=examples, seed=seed, all_killers=all_killers)
    if result.killed_by:
        result.status = "equivalent-killed" if result.equivalent_reason else "killed"
    elif result.equivalent_reason:
        result.status = "equivalent"
    result.behavioural = any(k != "structure" for k in result.killed_by)
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def _kill(dsn: str, result: Result, *, examples: int, seed: int, all_killers: bool) -> None:
    isolation = _isolation()
    if isolation is not None and examples > 0:
        try:
            report = isolation(dsn, examples=examples, seed=seed)
            violations = [str(v) for v in getattr(report, "violations", [])]
        except Exception as exc:  # an unexpected error in the suite is a kill: the mutant broke something
            violations = [f"isolation suite raised {type(exc).__name__}: {exc}"]
            violations.append(traceback.format_exc(limit=2).strip().splitlines()[-1])
        if violations:
            result.killed_by.append("isolation")
            result.evidence.extend(violations[:3])
            if not all_killers:
                return
    with psycopg.connect(dsn) as conn:  # after the isolation suite, which needs an empty database
        killers.build_world(conn)
        conn.commit()
    found = killers.run_killers(dsn, stop_at_first=not all_killers)
    for name, violations in found.items():
        if violations:
            result.killed_by.append(name)
            result.evidence.extend(violations[:3])


# --- the run --------------------------------------------------------------------------------------------


def select(mutants: list[Mutant], only: list[str] | None) -> list[Mutant]:
    if not only:
        return mutants
    return [m for m in mutants if any(fnmatch(m.id, p) or p in m.id for p in only)]


def run(
    server_url: str,
    *,
    only: list[str] | None = None,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = DEFAULT_SEED,
    workers: int = 2,
    all_killers: bool = False,
    equivalents_file: Path = EQUIVALENT_FILE,
    progress: Callable[[Result], None] | None = None,
) -> Report:
    started = time.perf_counter()
    mutants = select(derive(), only)
    texts = source_texts()
    equivalents = load_equivalents(equivalents_file)
    results: list[Result] = []
    with template_database(server_url) as template:
        # The unmutated database must pass every killer, or every "kill" below would be meaningless.
        with database_copy(server_url, template) as dsn:
            problems = []
            isolation = _isolation()
            if isolation is not None and examples > 0:
                problems += [
                    f"isolation: {v}" for v in isolation(dsn, examples=examples, seed=seed).violations
                ]
            with psycopg.connect(dsn) as conn:
                killers.build_world(conn)
                conn.commit()
            baseline = killers.run_killers(dsn, stop_at_first=False)
            problems += [v for vs in baseline.values() for v in vs]
            if problems:
                raise BaselineError(problems)

        def one(m: Mutant) -> Result:
            r = run_mutant(
                server_url, template, m, texts,
                equivalents=equivalents, examples=examples, seed=seed, all_killers=all_killers,
            )  # fmt: skip
            if progress:
                progress(r)
            return r

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(one, mutants))
    return Report(results, time.perf_counter() - started, workers, _isolation() is not None and examples > 0)


class BaselineError(NexkError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The unmutated policies fail the mutation killers, so no mutant result would mean anything. Fix "
            "these first (or the killers, if the spec changed):\n  " + "\n  ".join(problems[:20])
        )


# --- output ---------------------------------------------------------------------------------------------

_STATUS_STYLE = {
    "killed": "green",
    "survived": "bold red",
    "equivalent": "yellow",
    "equivalent-killed": "yellow",
}


def render(report: Report, console: Console) -> None:
    """The table of every mutant (equivalent ones included, never hidden) and the summary."""
    from rich.table import Table
    from rich.text import Text

    table = Table("mutant", "operator", "where", "result", "by", "s", show_lines=False)
    for r in report.results:
        status = r.status
        if r.equivalent_reason is not None:
            status = "equivalent (documented)" + (", killed anyway" if r.killed_by else "")
        by = ", ".join(r.killed_by) or (r.equivalent_reason or "")
        if r.killed_by and not r.behavioural:
            by += " (structural only)"
        table.add_row(
            Text(r.id), Text(r.operator), Text(r.where),
            Text(status, style=_STATUS_STYLE[r.status]), Text(by), f"{r.seconds:.1f}",
        )  # fmt: skip
    console.print(table)
    for r in report.survived:
        console.print(Text(f"SURVIVED {r.id}: {r.description} ({r.where})", style="bold red"))
    d = report.as_dict()
    console.print(
        f"Mutation score: {d['killed']}/{d['counted']} = {d['score_percent']}% "
        f"({d['killed_behaviourally']} killed by behaviour, {d['killed_structurally_only']} only by the README §5 "
        f"structural invariants; {d['equivalent']} documented equivalent, counted apart). "
        f"{d['total']} mutants in {d['seconds']} s on {d['workers']} workers; isolation suite "
        f"{'used' if d['isolation_suite'] else 'not available (db.rls.probe.run_isolation has not landed)'}."
    )
