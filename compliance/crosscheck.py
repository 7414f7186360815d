"""Cross-checks: the register against the running platform (schema, infrastructure, database, tests, policy).

Each check is a function that returns a list of problems (empty: the check passes); each problem is one
sentence that names the thing that disagrees and where to fix it. `run_checks()` runs them all for
`nexk compliance check`; the tests call them one by one on deliberately broken copies.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from compliance.register import Register
from db.rows import one
from nexk.errors import NexkError
from nexk.paths import REPO_ROOT
from nexk.subprocessors import EEA_COUNTRIES

# Schemas whose tables must be classified column by column: the portal's tables, Supabase Auth and Storage,
# and the private helpers schema (where retention and DSR bookkeeping may live).
CLASSIFIED_SCHEMAS = ("public", "auth", "storage", "private")
# The privacy policy as published on 2026-05-09 (its verbatim text, kept in
# the repository so every clone and CI run checks against the same promise).
SEED_POLICY = REPO_ROOT / "compliance" / "published" / "privacy-policy-2026-05-09.txt"
TRANSFER_MECHANISMS = {"SCC": "SCCs", "BCR": "BCRs", "adequacy": "Adequacy Decision"}


@dataclass
class CheckResult:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------- schema classification
Column = tuple[str, str, str]  # (schema, table, column)


def schema_columns(conn: psycopg.Connection) -> set[Column]:
    """Every column of every base table in the classified schemas of a migrated database."""
    rows = conn.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t
            on t.table_schema = c.table_schema and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE' and c.table_schema = any(%s)
        """,
        (list(CLASSIFIED_SCHEMAS),),
    ).fetchall()
    return {(s, t, c) for s, t, c in rows}


def classified_columns(register: Register) -> dict[Column, list[str]]:
    """(schema, table, column) -> data categories, from the datasets (schema in fides_meta.namespace)."""
    found: dict[Column, list[str]] = {}
    for dataset in register.datasets:
        schema = ((dataset.get("fides_meta") or {}).get("namespace") or {}).get("schema")
        if not schema:
            raise ValueError(
                f"dataset {dataset.get('fides_key')}: set fides_meta.namespace.schema to the database schema "
                "its collections are tables of (compliance/fides/dataset.yml)"
            )
        for collection in dataset.get("collections", []):
            for item in collection.get("fields", []):
                found[(schema, collection["name"], item["name"])] = list(item.get("data_categories") or [])
    return found


def check_columns_classified(register: Register, columns: set[Column]) -> list[str]:
    """Every column is classified (a new one forces a decision), and the dataset lists no vanished column."""
    classified = classified_columns(register)
    known_tables = {(s, t) for s, t, _ in classified}
    missing = sorted(columns - set(classified))
    problems = []
    for schema, table in sorted({(s, t) for s, t, _ in missing} - known_tables):
        names = ", ".join(c for s, t, c in missing if (s, t) == (schema, table))
        problems.append(
            f"table {schema}.{table} is not classified (columns {names}): add a collection `{table}` to dataset "
            f"`mynexk_{schema}` in compliance/fides/dataset.yml with one field per column and a fideslang data "
            "category each (user.* when it relates to a person, system.operations when it does not)"
        )
    for schema, table, column in missing:
        if (schema, table) in known_tables:
            problems.append(
                f"column {schema}.{table}.{column} is not classified: add it to collection `{table}` of dataset "
                f"`mynexk_{schema}` in compliance/fides/dataset.yml with a fideslang data category (user.* when "
                "it relates to a person, system.operations when it does not)"
            )
    for schema, table, column in sorted(set(classified) - columns):
        problems.append(
            f"compliance/fides/dataset.yml classifies {schema}.{table}.{column}, which the migrated schema does "
            "not have: remove it or fix its name"
        )
    for key, categories in sorted(classified.items()):
        if not categories:
            problems.append(f"compliance/fides/dataset.yml: {'.'.join(key)} has no data category")
    return problems


@contextmanager
def scratch_database() -> Iterator[str]:
    """A throw-away database on the project's server with every migration applied; dropped afterwards."""
    from db.connection import server_while_needed
    from db.migrate import migrate

    with server_while_needed() as server:
        name = f"nexk_compliance_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        try:
            url = make_conninfo(server, dbname=name)
            migrate(url)
            yield url
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


# ------------------------------------------------------------------------------------------- retention
def database_retention(conn: psycopg.Connection) -> dict[str, str] | None:
    """{policy name: period as interval text} as the database enforces it, or None when it states nothing.

    Convention agreed with the retention migrations (0100+): a table `private.retention_policy(name, period)`
    or a function `private.retention_settings()` returning (name text, period interval).
    """
    if one(conn.execute("select to_regclass('private.retention_policy') is not null").fetchone())[0]:
        rows = conn.execute("select name, period::text from private.retention_policy").fetchall()
        return dict(rows)
    has_function = one(
        conn.execute(
            "select exists (select from pg_catalog.pg_proc as p where p.pronamespace = 'private'::regnamespace"
            " and p.proname = 'retention_settings')"
        ).fetchone()
    )[0]
    if has_function:
        rows = conn.execute("select name, period::text from private.retention_settings()").fetchall()
        return dict(rows)
    return None


def check_retention(register: Register, conn: psycopg.Connection) -> list[str]:
    """The periods of compliance/retention.yaml equal the ones the database enforces, both ways."""
    enforced = database_retention(conn)
    if enforced is None:
        return [
            "the database states no retention periods: expected a table private.retention_policy(name text "
            "primary key, period interval) or a function private.retention_settings() from the retention "
            "baseline (db/schema/0362_baseline.sql)"
        ]
    problems = []
    stated = {p.database_policy: p for p in register.retention.periods}
    for name, period in sorted(stated.items()):
        if name not in enforced:
            problems.append(
                f"compliance/retention.yaml: period `{period.key}` ({period.period}) has no database policy "
                f"`{name}`: the database does not enforce it"
            )
            continue
        equal = conn.execute("select %s::interval = %s::interval", (period.duration.postgres, enforced[name]))
        if not one(equal.fetchone())[0]:
            problems.append(
                f"retention `{name}`: compliance/retention.yaml says {period.period} ({period.duration.postgres}) "
                f"but the database enforces {enforced[name]}"
            )
    for name in sorted(set(enforced) - set(stated)):
        problems.append(
            f"the database enforces retention policy `{name}` ({enforced[name]}) that compliance/retention.yaml "
            "does not state: add it to the register (and the privacy policy) or remove it"
        )
    return problems


# ---------------------------------------------------------------------------- subprocessors and system
def check_system_matches_subprocessors(register: Register) -> list[str]:
    """The fideslang system's egress equals the subprocessor register; transfers agree with countries."""
    system = register.system
    flows = {f["fides_key"]: f for f in system.get("egress") or [] if f.get("type") == "system"}
    subs = {s.key: s for s in register.subprocessors.subprocessors}
    problems = []
    for key in sorted(set(flows) - set(subs)):
        problems.append(
            f"compliance/fides/system.yml: egress to `{key}`, which is not in compliance/subprocessors.yaml: "
            f"register {key} as a subprocessor (with its DPA) or stop sending it data"
        )
    for key in sorted(set(subs) - set(flows)):
        problems.append(
            f"compliance/subprocessors.yaml lists {subs[key].name} (`{key}`) but compliance/fides/system.yml "
            "has no egress to it: add the data flow"
        )
    for key in sorted(set(flows) & set(subs)):
        extra = sorted(set(flows[key].get("data_categories") or []) - set(subs[key].data_categories))
        if extra:
            problems.append(
                f"compliance/fides/system.yml: egress to `{key}` shares {extra}, which its entry in "
                "compliance/subprocessors.yaml (data_categories) does not list"
            )
    outside = sorted(s.key for s in subs.values() if s.country not in EEA_COUNTRIES)
    if bool(outside) != bool(system.get("does_international_transfers")):
        problems.append(
            f"compliance/fides/system.yml: does_international_transfers is {system.get('does_international_transfers')}"
            f" but the subprocessors outside the EEA are {outside or 'none'}"
        )
    declared = set(system.get("legal_basis_for_transfers") or [])
    for key in outside:
        needed = TRANSFER_MECHANISMS.get(subs[key].transfer_mechanism)
        if needed not in declared:
            problems.append(
                f"compliance/fides/system.yml: legal_basis_for_transfers must include {needed!r} for "
                f"{subs[key].name} ({subs[key].country})"
            )
    return problems


Inventory = Mapping[str, tuple[str, ...]]  # subprocessor key -> regions the program pins it to ("" none)


def stack_names(root: Path = REPO_ROOT) -> list[str]:
    """The environment stacks with a committed stack file (`Pulumi.<stack>.yaml`).

    Stack `repo` is left out: it is the repository's merge gate (infra/repo/), which holds no subprocessor.
    """
    from infra.repo import REPO_STACK

    return sorted(name for p in root.glob("Pulumi.*.yaml") if (name := p.name.split(".")[1]) != REPO_STACK)


def provisioned(stack: str, root: Path = REPO_ROOT) -> Inventory:
    """{subprocessor: regions} the infrastructure program declares for a stack, run under mocks.

    Uses the infra team's inventory (`infra.inventory.describe` over `infra.mocks.run_stack`): a resource's
    subprocessor comes from its type, its regions from every setting whose name contains "region" (Supabase
    `region`, Vercel `resourceConfig.functionDefaultRegions`). A vendor whose resources set no region (Brevo:
    the EU is contractual, not an API setting) is reported with no region.
    """
    try:
        from infra.inventory import describe
        from infra.mocks import run_stack
        from nexk.subprocessors import load_register
    except ModuleNotFoundError as exc:
        raise NexkError(
            "the infrastructure inventory (infra.inventory.describe, infra.mocks.run_stack) is not importable: "
            f"{exc}; the subprocessor cross-check needs it"
        ) from exc
    register = load_register()
    found: dict[str, set[str]] = {}
    for resource in run_stack(stack, root).resources:
        item = describe(resource, register)
        if not item.subprocessor:
            continue
        regions = found.setdefault(item.subprocessor, set())
        for name, value in item.settings.items():
            if "region" in name.lower():
                regions.update([value] if isinstance(value, str) else value)
    return {key: tuple(sorted(regions)) for key, regions in found.items()}


def provisioned_inventories(root: Path = REPO_ROOT) -> dict[str, Inventory]:
    names = stack_names(root)
    if not names:
        raise NexkError(
            f"no Pulumi stack file (Pulumi.<stack>.yaml) in {root}: nothing to compare the register with"
        )
    return {name: provisioned(name, root) for name in names}


def check_subprocessors_provisioned(register: Register, inventories: Mapping[str, Inventory]) -> list[str]:
    """What each stack provisions equals the register: same subprocessors, same regions, both ways."""
    subs = {s.key: s for s in register.subprocessors.subprocessors}
    problems = []
    for stack, inventory in sorted(inventories.items()):
        for key in sorted(set(inventory) - set(subs)):
            problems.append(
                f"stack {stack} provisions subprocessor `{key}` (regions {list(inventory[key])}) that "
                "compliance/subprocessors.yaml does not list: register it (DPA, country, transfer mechanism) "
                "and add it to the privacy policy, or remove it from the infrastructure"
            )
        for key in sorted(set(subs) - set(inventory)):
            problems.append(
                f"compliance/subprocessors.yaml lists {subs[key].name} (`{key}`) but stack {stack} does not "
                "provision it: remove it from the register and the privacy policy, or provision it"
            )
        for key in sorted(set(subs) & set(inventory)):
            registered, declared = set(subs[key].hosting_region), set(inventory[key])
            # No region setting (Brevo): the region is contractual and cannot be compared with code.
            if declared and registered != declared:
                problems.append(
                    f"stack {stack}: {subs[key].name} is provisioned in region(s) {sorted(declared)} but "
                    f"compliance/subprocessors.yaml registers {sorted(registered)} (hosting_region)"
                )
    supabase = inventories and {r for inv in inventories.values() for r in inv.get("supabase", ())}
    if supabase:
        allowed = set(register.subprocessors.supabase_allowed_regions)
        for region in sorted(supabase - allowed):
            problems.append(
                f"Supabase is provisioned in {region}, outside supabase_allowed_regions {sorted(allowed)}"
            )
    return problems


# -------------------------------------------------------------------------------------- traceability
@cache
def _test_functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)}
    return frozenset(names)


def _missing_code(where: str, paths: tuple[str, ...], root: Path) -> list[str]:
    return [f"{where}: implemented_by {p} does not exist" for p in paths if not (root / p).exists()]


def _missing_tests(where: str, nodes: tuple[str, ...], root: Path) -> list[str]:
    problems = []
    for node in nodes:
        file, _, function = node.partition("::")
        path = root / file
        if not path.is_file():
            problems.append(f"{where}: test file {file} does not exist")
        elif function not in _test_functions(path):
            problems.append(f"{where}: test {node} does not exist (renamed or removed?)")
    return problems


def check_traceability(register: Register, root: Path = REPO_ROOT) -> list[str]:
    """Every security measure and every policy claim points to code and tests that exist.

    The tests themselves run in the same `make test`, so a claim whose test fails fails CI too.
    """
    problems = []
    for m in register.security.measures:
        where = f"compliance/security_measures.yaml: measure `{m.key}`"
        problems += _missing_code(where, m.implemented_by, root) + _missing_tests(where, m.tested_by, root)
    for c in register.claims.claims:
        where = f"compliance/claims.yaml: claim `{c.key}`"
        problems += _missing_code(where, c.implemented_by, root) + _missing_tests(where, c.tested_by, root)
    return problems


def normalise(text: str) -> str:
    return (
        re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"'))
        .strip()
        .lower()
    )


def policy_statements(text: str) -> list[str]:
    """The statements of a published policy: bullet items and sentences (headings are not promises)."""
    statements = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("- "):
            statements.append(line[2:].strip())
        elif line[-1] in ".:!?":
            statements.extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s)
    return statements


def check_policy_claims(register: Register, seed: Path = SEED_POLICY) -> list[str]:
    """Every statement of the published policy is mapped to a claim, and each claim quotes it verbatim."""
    if not seed.is_file():
        return [f"the published privacy policy {seed} is missing"]
    statements = [normalise(s) for s in policy_statements(seed.read_text(encoding="utf-8"))]
    covered = {normalise(t) for c in register.claims.claims for t in c.policy_text}
    problems = [
        f"privacy policy statement not mapped to any claim in compliance/claims.yaml: {s!r}"
        for s in statements
        if s not in covered
    ]
    for c in register.claims.claims:
        for text in c.policy_text:
            if normalise(text) not in statements:
                problems.append(
                    f"compliance/claims.yaml: claim `{c.key}` quotes text the policy does not contain: {text!r}"
                )
        quoted = " ".join(normalise(t) for t in c.policy_text)
        for fact in c.facts:
            if normalise(fact) not in quoted:
                problems.append(
                    f"compliance/claims.yaml: claim `{c.key}`: fact {fact!r} is not in its policy_text"
                )
    return problems


def check_generated_up_to_date(register: Register) -> list[str]:
    """The committed documents in compliance/generated/ are what the register renders today."""
    from compliance.render import render_all

    problems = []
    for path, content in render_all(register).items():
        relative = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        if not path.is_file():
            problems.append(f"{relative} is missing: run `nexk compliance render`")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{relative} is out of date with the register: run `nexk compliance render`")
    return problems


def check_policy_states_every_fact(register: Register) -> list[str]:
    """The rendered English policy states every fact of every claim (nothing promised is lost)."""
    from compliance.render import render_policy

    policy = normalise(render_policy(register, "en"))
    return [
        f"the generated English privacy policy no longer states {fact!r} (claim `{c.key}`)"
        for c in register.claims.claims
        for fact in c.facts
        if normalise(fact) not in policy
    ]


# --------------------------------------------------------------------------------------------- runner
def run_checks(
    register: Register,
    database: str | None = None,
    inventories: Mapping[str, Inventory] | None = None,
) -> list[CheckResult]:
    """Every cross-check; `database` is a migrated DSN (a scratch one is built when None)."""
    results: list[CheckResult] = []

    def record(name: str, check: Callable[[], list[str]]) -> None:
        try:
            results.append(CheckResult(name, check()))
        except NexkError as exc:
            results.append(CheckResult(name, [str(exc)]))

    record(
        "fideslang system egress matches the subprocessor register",
        lambda: check_system_matches_subprocessors(register),
    )

    def provisioned() -> list[str]:
        found = inventories if inventories is not None else provisioned_inventories()
        return check_subprocessors_provisioned(register, found)

    record("subprocessors and regions provisioned by every stack equal the register", provisioned)

    def with_database(conn_check: Callable[[psycopg.Connection], list[str]]) -> Callable[[], list[str]]:
        def run() -> list[str]:
            with psycopg.connect(url) as conn:
                return conn_check(conn)

        return run

    with _database(database) as url:
        record(
            "every column of the migrated schema is classified in the dataset",
            with_database(lambda conn: check_columns_classified(register, schema_columns(conn))),
        )
        record(
            "retention periods equal what the database enforces",
            with_database(lambda conn: check_retention(register, conn)),
        )
    record("every statement of the published policy maps to a claim", lambda: check_policy_claims(register))
    record(
        "every claim and security measure points to existing code and tests",
        lambda: check_traceability(register),
    )
    record(
        "the generated English policy states every fact of the published one",
        lambda: check_policy_states_every_fact(register),
    )
    record("the generated documents are up to date", lambda: check_generated_up_to_date(register))
    return results


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with scratch_database() as scratch:
            yield scratch
