"""A leak shown as a leak: who reached which tenant's row, through which command, against which rule.

The isolation suite (db/rls/probe.py), the differential model and the attack catalogue (db/rls/killers.py)
find violations; this module turns each into a sentence a reviewer reads without the traceback (identity,
table, command, the row and its tenant, the rule of db/policies/README.md that forbids it), and keeps the
identity x table x command grid of everything probed in the run, violations marked, for the job summary
(`$GITHUB_STEP_SUMMARY`, written by db/rls/report_pytest.py).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from db.rls import model
from db.rls.model import Identity, World

SPEC = Path(__file__).resolve().parent.parent / "policies" / "README.md"
SPEC_NAME = "db/policies/README.md"
ROLES = ("client_member", "client_admin", "agent", "admin")
# Rows of the grid, in the order a reviewer reads them: nobody, then clients, then staff.
IDENTITY_KINDS = ("anon", "stranger", *ROLES)
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "UPSERT", "EXECUTE", "-")


# --- The rule that forbids it -----------------------------------------------------------------------------


@cache
def _rows_table() -> dict[tuple[str, str], dict[str, str]]:
    """README §3 as {(table, command): {role: cell}}: `INSERT / UPDATE / DELETE` rows apply to each command;
    "(the same five)" repeats the reference tables of the row above."""
    rules: dict[tuple[str, str], dict[str, str]] = {}
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 3.", 1)[1].split("\n## ", 1)[0]
    previous_tables: list[str] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(ROLES) or cells[0] in ("table", "---"):
            continue
        tables = (
            previous_tables
            if cells[0].startswith("(the same")
            else [t.strip() for t in cells[0].split(",") if t.strip()]
        )
        previous_tables = tables
        commands = COMMANDS[:4] if cells[1] == "every command" else [c.strip() for c in cells[1].split("/")]
        for table in tables:
            for command in commands:
                rules[(table, command)] = dict(zip(ROLES, cells[2:], strict=True))
    return rules


def _short(table: str) -> str:
    return table.removeprefix("public.")


def spec_rule(table: str, command: str, kind: str) -> str:
    """The README rule for `kind` (an identity kind of IDENTITY_KINDS) doing `command` on `table`."""
    if kind in ("anon", "stranger"):
        return (
            f"{SPEC_NAME} §2: anon and strangers (and staff at aal1, §1) are denied everything on every table"
        )
    command = "INSERT" if command == "UPSERT" else command
    if command == "EXECUTE":
        return f"{SPEC_NAME} §6: {table} answers only for the people the caller may see"
    row = _rows_table().get((_short(table), command))
    if row is None:
        return f"{SPEC_NAME} §3 has no row for {table} {command}: nothing is allowed that it does not list"
    return f"{SPEC_NAME} §3, {_short(table)} {command}, {kind}: {row[kind]}"


# --- The row's tenant -------------------------------------------------------------------------------------


def tenant_in_world(world: World, row_id: str) -> str:
    """The organization a row of the world belongs to, as `org <label>`, or what it is when it has none."""

    def org_label(org_id: uuid.UUID | None) -> str:
        org = world.org(org_id)
        return f"org {org.label}" if org else "no organization (staff or platform row)"

    def of_user(user_id: uuid.UUID | None) -> str:
        user = world.user(user_id)
        return org_label(user.org) if user else "no organization"

    by_id = {str(o.id): o for group in (world.orgs,) for o in group}
    if row_id in by_id:
        return f"org {by_id[row_id].label}"
    for user in world.users:
        if str(user.id) == row_id:
            return org_label(user.org)
    tenanted: list[model.Ticket | model.Attachment | model.Assignment] = [
        *world.tickets,
        *world.attachments,
        *world.assignments,
    ]
    for item in tenanted:
        if str(item.id) == row_id:
            return org_label(item.org)
    for message in world.messages:
        if str(message.id) == row_id:
            ticket = world.ticket(message.ticket)
            return org_label(ticket.org if ticket else None)
    for obj in world.objects:
        if str(obj.id) == row_id:
            attachment = world.attachment_by_path(obj.name)
            return org_label(attachment.org) if attachment else f"no attachment (bucket {obj.bucket})"
    for audit in world.audit:
        if str(audit.id) == row_id:
            return of_user(audit.actor)
    for dsr in world.dsrs:
        if str(dsr.id) == row_id:
            return of_user(dsr.subject)
    return "reference data (no tenant)"


def identity_kind(world: World, ident: Identity) -> str:
    if ident.is_anon:
        return "anon"
    return model.caller(world, ident).role or "stranger"


def explain(violation: object, world: World, ident: Identity) -> str:
    """One violation of db/rls/probe.py (kind, identity, table, command, rows) in full words."""
    kind = identity_kind(world, ident)
    labels = world.labels()
    rows = sorted(getattr(violation, "rows", ()))
    named = ", ".join(f"{labels.get(r, r)} (tenant: {tenant_in_world(world, r)})" for r in rows) or "-"
    table, command = violation.table, violation.command  # type: ignore[attr-defined]
    verb = "forbids" if violation.kind == "LEAK" else "states"  # type: ignore[attr-defined]
    return (
        f"{violation.kind}: identity {violation.identity}; table {table}; command {command}; "  # type: ignore[attr-defined]
        f"rows {named}; the rule that {verb} it: {spec_rule(table, command, kind)}\n    detail: {violation}"
    )


# Killer messages (db/rls/killers.py): `reads: <identity> select <table>: extra [...], missing [...]` and
# `writes: <identity> <sql>: ...`. The fixed world's identities are named like `member_a1` or `agent@aal1`.
KILLER_READ = re.compile(r"^reads: (?P<who>\S+) select (?P<table>\S+): extra \[(?P<extra>[^\]]*)\]")
KILLER_WRITE = re.compile(
    r"^writes: (?P<who>\S+) (?P<command>insert|update|delete)\b[^;]*?(?:into|from)?\s*(?P<table>[a-z_]+\.[a-z_]+)"
)
KILLER_KIND = (
    ("cadmin", "client_admin"),
    ("member", "client_member"),
    ("agent", "agent"),
    ("admin", "admin"),
    ("anon", "anon"),
)


def killer_kind(who: str) -> str:
    if "@aal1" in who or "_off" in who or who.startswith(("stranger", "nobody", "erased")):
        return "stranger"
    return next((kind for prefix, kind in KILLER_KIND if who.startswith(prefix)), "stranger")


def killer_cell(problem: str, check: str) -> tuple[str, str, str]:
    """The grid cell (identity kind, table, command) a killer's message is about; (killers, check, -) if unknown."""
    if m := KILLER_READ.match(problem):
        return killer_kind(m["who"]), m["table"], "SELECT"
    if m := KILLER_WRITE.match(problem):
        return killer_kind(m["who"]), m["table"], m["command"].upper()
    return "killers", check, "-"


def explain_killer(problem: str, tenants: Mapping[str, str] | None = None) -> str:
    """A killer's message with the rule and the leaked rows' tenants (`tenants`: label -> organization)."""
    if m := KILLER_READ.match(problem):
        extra = [e.strip().strip("'\"") for e in m["extra"].split(",") if e.strip()]
        if extra:
            kind = killer_kind(m["who"])
            rows = ", ".join(f"{e} (tenant: {(tenants or {}).get(e, 'unknown')})" for e in extra)
            return (
                f"LEAK: identity {m['who']} ({kind}); table {m['table']}; command SELECT; rows {rows}; "
                f"the rule that forbids it: {spec_rule(m['table'], 'SELECT', kind)}\n    detail: {problem}"
            )
    if m := KILLER_WRITE.match(problem):
        kind = killer_kind(m["who"])
        command = m["command"].upper()
        return (
            f"identity {m['who']} ({kind}); table {m['table']}; command {command}; "
            f"the rule: {spec_rule(m['table'], command, kind)}\n    detail: {problem}"
        )
    return problem


# --- The grid of the run ----------------------------------------------------------------------------------


@dataclass
class Cell:
    probes: int = 0
    violations: list[str] = field(default_factory=list)


@dataclass
class Grid:
    """identity kind x table x command, over every probe of the run (threads of the suite record into it)."""

    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, kind: str, table: str, command: str, violation: str | None = None) -> None:
        with self._lock:
            cell = self.cells.setdefault((kind, table, command), Cell())
            cell.probes += 1
            if violation:
                cell.violations.append(violation)

    def flag(self, kind: str, table: str, command: str, violation: str) -> None:
        """Mark a cell violated (its probes were counted by record())."""
        with self._lock:
            self.cells.setdefault((kind, table, command), Cell(probes=1)).violations.append(violation)

    def violations(self) -> list[str]:
        return [v for cell in self.cells.values() for v in cell.violations]

    def markdown(self) -> str:
        """The job summary: one table per identity kind (rows: tables, columns: commands), ❌ where a
        probe found a violation, ✅ where every probe agreed with the spec, blank where nothing was probed."""
        if not self.cells:
            return ""
        found = self.violations()
        head = "❌ **Isolation violations found**" if found else "✅ **No isolation violation**"
        probes = sum(c.probes for c in self.cells.values())
        lines = [
            "## Tenant isolation: identity \u00d7 table \u00d7 command",
            "",
            f"{head}: {len(found)} violation(s) in {probes} probes ({SPEC_NAME} is the rule).",
            "",
        ]
        tables = sorted({t for _, t, _ in self.cells})
        commands = [c for c in COMMANDS if any(k[2] == c for k in self.cells)]
        kinds = [k for k in IDENTITY_KINDS if any(key[0] == k for key in self.cells)]
        kinds += sorted({key[0] for key in self.cells} - set(kinds))
        for kind in kinds:
            lines += [f"### {kind}", "", "| table | " + " | ".join(commands) + " |"]
            lines.append("|---|" + "---|" * len(commands))
            for table in tables:
                marks = []
                for command in commands:
                    cell = self.cells.get((kind, table, command))
                    marks.append(
                        "" if cell is None else f"❌ {len(cell.violations)}" if cell.violations else "✅"
                    )
                if any(marks):
                    lines.append(f"| `{table}` | " + " | ".join(marks) + " |")
            lines.append("")
        if found:
            lines += ["### Violations", ""]
            lines += [f"- {v.splitlines()[0]}" for v in found[:50]]
            if len(found) > 50:
                lines.append(f"- … and {len(found) - 50} more (test-artifacts/junit.xml)")
        return "\n".join(lines) + "\n"


GRID = Grid()


def record_observations(grid: Grid, world: World, observations: Iterable[object]) -> None:
    """Every read and write probe of db/rls/probe.py's observations, as cells of the grid (no verdict yet)."""
    for obs in observations:
        kind = identity_kind(world, obs.identity)  # type: ignore[attr-defined]
        for table in obs.reads:  # type: ignore[attr-defined]
            grid.record(kind, table, "SELECT")
        for probe, _outcome in obs.writes:  # type: ignore[attr-defined]
            grid.record(kind, probe.table, probe.command)


# Tables of the killers' owner view (db/rls/killers.py OWNER_ROWS) whose second column is the organization.
KILLER_ORG_COLUMN = frozenset(
    {
        "public.profiles",
        "public.tickets",
        "public.ticket_messages",
        "public.attachments",
        "storage.objects",
        "private.invitations",
    }
)


def killer_tenants(conn: object, w: object) -> dict[str, str]:
    """label -> tenant (organization label) of every row of the killers' fixed world, read as the owner."""
    from db.rls.killers import OWNER_ROWS

    tenants: dict[str, str] = {}
    for table, sql in OWNER_ROWS.items():
        for row in conn.execute(sql).fetchall():  # type: ignore[attr-defined]
            label = w.label(row[0])  # type: ignore[attr-defined]
            if table == "public.organizations":
                tenants[label] = label
            elif table in KILLER_ORG_COLUMN:
                tenants[label] = w.label(row[1]) if row[1] else "no organization"  # type: ignore[attr-defined]
    return tenants
