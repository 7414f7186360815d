"""The database side of the isolation suite: impersonate every identity of a world, ask, compare with the model.

Each identity is probed exactly as PostgREST runs a request: inside the world's transaction, `set local role`
(`anon` or `authenticated`) and transaction-local `request.jwt.claims`, wrapped in a savepoint that is rolled
back afterwards (which also undoes the role and the claims). Each write attempt runs in its own savepoint; the
same round trip then `reset role`s to the owner and re-reads the target table, so "zero rows" is proven to
have changed nothing (RLS refuses silently: a refused update changes zero rows and raises nothing) and "allowed" is proven to have changed exactly the
target. Then the write is rolled back: the world never changes between probes.

`run_isolation(dsn, examples=, seed=)` is the whole suite without pytest (deterministic for a seed); the
mutation tool counts a mutant killed when it returns violations or raises.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from db.rls import model, report
from db.rls.model import (
    CLIENT_ROLES,
    SLA_TABLES,
    STAFF_ROLES,
    TABLES,
    TICKET_STATUSES,
    Identity,
    Verdict,
    World,
)
from db.rls.worlds import (
    OTHER_BUCKET,
    Chooser,
    RandomChooser,
    load_world,
    plan_id,
    random_world,
    resalt,
)
from db.testing_world import enterprise_number

EXPOSED_SCHEMAS = ("public", "storage")


# --- Probes and outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteProbe:
    table: str
    command: str  # INSERT, UPDATE, DELETE, UPSERT
    description: str
    sql: str  # one statement, ending in `returning id::text`
    target: str | None  # the existing row an UPDATE/DELETE/UPSERT aims at
    changes: Mapping[str, Any]
    verdict: Verdict

    @property
    def statement(self) -> str:
        """What is sent: with RETURNING when the spec allows the write (PostgREST's return=representation
        must work, so the new row must pass the SELECT policy too), without when it forbids it (return=minimal:
        RETURNING would make the SELECT policy refuse and hide a write policy that lets it through)."""
        return self.sql if self.verdict.allowed else self.sql.removesuffix(" returning id::text")


@dataclass
class WriteOutcome:
    sqlstate: str | None
    message: str | None
    returned: list[str]
    after: dict[str, str]  # owner's view of the table after the write: id -> md5(row)
    target_after: dict[str, Any] | None


@dataclass
class Observation:
    identity: Identity
    reads: dict[str, set[str]]
    read_errors: dict[str, str]  # table -> sqlstate of a refused SELECT (anon has no privilege at all)
    writes: list[tuple[WriteProbe, WriteOutcome]] = field(default_factory=list)
    # private.display_names() asked about every user of the world and one unknown id: {id: name} answered,
    # or the SQLSTATE of the refusal (anon: 42501).
    names: dict[str, str] = field(default_factory=dict)
    names_error: str | None = None


@dataclass(frozen=True)
class Violation:
    kind: str  # LEAK, OVER-RESTRICTION, WRONG-OUTCOME, UNMODELLED
    identity: str
    table: str
    command: str
    rows: frozenset[str]
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    violations: list[Violation]
    probes: int
    worlds: int
    identities: int
    elapsed: float
    denial_codes: Counter[str] = field(default_factory=Counter)
    # CPU seconds spent by the database backends and by this process: unlike `elapsed`, independent of
    # other load on the machine (None when the server's processes are not readable, e.g. a remote server).
    server_cpu: float | None = None
    client_cpu: float = 0.0

    @property
    def probes_per_second(self) -> float:
        return self.probes / self.elapsed if self.elapsed else 0.0


# --- SQL helpers ---------------------------------------------------------------------------------------


# SQL text here is built from relation names of the model/catalog and values passed through `lit()`
# (generated uuids, numbers and fixed strings), never from outside input: hence the S608 waivers.


def lit(value: Any) -> str:
    """A SQL literal for the generated values (uuids, text, numbers, booleans, null)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _insert(table: str, row: Mapping[str, Any], suffix: str = "") -> str:
    cols = ", ".join(row)
    vals = ", ".join(lit(v) for v in row.values())
    return f"insert into {table} ({cols}) values ({vals}){suffix} returning id::text"  # noqa: S608


def _update(table: str, target: Any, changes: Mapping[str, Any]) -> str:
    sets = ", ".join(f"{k} = {'now()' if v == 'now()' else lit(v)}" for k, v in changes.items())
    return f"update {table} set {sets} where id = {lit(target)} returning id::text"  # noqa: S608


def _delete(table: str, target: Any) -> str:
    return f"delete from {table} where id = {lit(target)} returning id::text"  # noqa: S608


# --- Write plans ---------------------------------------------------------------------------------------


class _Planner:
    """Builds the write probes of one identity, each with the model's verdict."""

    def __init__(self, world: World, ident: Identity, ch: Chooser) -> None:
        self.w, self.ident, self.ch = world, ident, ch
        self.c = model.caller(world, ident)
        u = ident.user
        self.me = u.id if u else uuid.uuid5(uuid.NAMESPACE_URL, "anon")
        self.home = u.org if u and u.org else ch.choice(world.orgs).id
        others = [o.id for o in world.orgs if o.id != self.home]
        self.other = ch.choice(others)
        self.probes: list[WriteProbe] = []
        self.n = 0

    def fresh(self) -> int:
        self.n += 1
        return self.n

    def email(self) -> str:
        return f"new{self.fresh()}.s{self.w.salt}@x.example"

    def add_insert(self, table: str, row: dict[str, Any], description: str, suffix: str = "") -> None:
        verdict = model.may_insert(self.w, self.ident, table, row)
        self.probes.append(
            WriteProbe(table, "INSERT", description, _insert(table, row, suffix), None, row, verdict)
        )

    def add_update(self, table: str, target: Any, changes: dict[str, Any], description: str) -> None:
        verdict = model.may_update(self.w, self.ident, table, target, changes)
        self.probes.append(
            WriteProbe(
                table, "UPDATE", description, _update(table, target, changes), str(target), changes, verdict
            )
        )

    def add_delete(self, table: str, target: Any, description: str) -> None:
        verdict = model.may_delete(self.w, self.ident, table, target)
        self.probes.append(
            WriteProbe(table, "DELETE", description, _delete(table, target), str(target), {}, verdict)
        )

    def pick(self, items: Sequence[Any]) -> Any | None:
        return self.ch.choice(items) if items else None

    # One method per table; every probe names what it tries in words a reviewer can check against README §3.

    def organizations(self) -> None:
        n = self.fresh()
        self.add_insert(
            "public.organizations",
            {
                "name": f"Probe org {n}",
                "enterprise_number": enterprise_number(1000 * self.w.salt + 900 + n),
                "contract_start": "2026-01-01",
                "sla_plan_id": plan_id(self.w),
                "shared_tickets": False,
            },
            "create an organization",
        )
        home = self.w.org(self.home)
        assert home is not None
        self.add_update(
            "public.organizations",
            self.home,
            {"shared_tickets": not home.shared_tickets},
            "flip sharing of own org",
        )
        self.add_update(
            "public.organizations", self.other, {"name": "Renamed"}, "rename another organization"
        )
        self.add_delete("public.organizations", self.ch.choice(self.w.orgs).id, "delete an organization")

    def profiles(self) -> None:
        w, me = self.w, self.me
        profiles = [u for u in w.users if u.has_profile]
        own = w.user(me)
        if own is not None and own.has_profile:
            self.add_update("public.profiles", me, {"first_name": "Renamed"}, "rename own profile")
            escalate = {"client_member": "client_admin", "client_admin": "admin", "agent": "admin"}.get(
                str(own.role)
            )
            if escalate:
                self.add_update("public.profiles", me, {"role": escalate}, f"escalate own role to {escalate}")
                self.add_update(
                    "public.profiles", me, {"organization_id": self.other}, "move own profile to another org"
                )
                self.add_update("public.profiles", me, {"email": self.email()}, "change own email")
                row = {
                    "id": me,
                    "organization_id": self.home if escalate in CLIENT_ROLES else None,
                    "role": escalate,
                    "first_name": "Up",
                    "surname": "Sert",
                    "email": own.email,
                }
                verdict = model.may_insert(w, self.ident, "public.profiles", row)
                if verdict.allowed:
                    verdict = model.may_update(w, self.ident, "public.profiles", me, {"role": escalate})
                if (
                    verdict.allowed
                ):  # the existing row is read and updated: the upsert path of an allowed update
                    verdict = Verdict.ok()
                sql = _insert("public.profiles", row, " on conflict (id) do update set role = excluded.role")
                self.probes.append(
                    WriteProbe(
                        "public.profiles",
                        "UPSERT",
                        f"upsert own profile as {escalate}",
                        sql,
                        str(me),
                        {"role": escalate},
                        verdict,
                    )
                )
        colleague = self.pick([u for u in profiles if u.org == self.home and u.id != me])
        if colleague is not None:
            self.add_update(
                "public.profiles",
                colleague.id,
                {"first_name": "Renamed"},
                f"rename colleague {colleague.label}",
            )
            new_role = "client_admin" if colleague.role == "client_member" else "client_member"
            self.add_update(
                "public.profiles",
                colleague.id,
                {"role": new_role},
                f"make colleague {colleague.label} {new_role}",
            )
            self.add_update(
                "public.profiles", colleague.id, {"role": "admin"}, f"make colleague {colleague.label} admin"
            )
            self.add_update(
                "public.profiles",
                colleague.id,
                {"organization_id": self.other},
                f"move colleague {colleague.label} to another org",
            )
            self.add_update(
                "public.profiles",
                colleague.id,
                {"email": self.email()},
                f"change colleague {colleague.label}'s email",
            )
            self.add_update(
                "public.profiles",
                colleague.id,
                {"deactivated_at": "now()"},
                f"deactivate colleague {colleague.label}",
            )
            self.add_delete("public.profiles", colleague.id, f"delete colleague {colleague.label}")
        foreign = self.pick([u for u in profiles if u.org == self.other])
        if foreign is not None:
            self.add_update(
                "public.profiles",
                foreign.id,
                {"first_name": "Renamed"},
                f"rename {foreign.label} of another org",
            )
        staff = self.pick([u for u in profiles if u.role in STAFF_ROLES and u.id != me])
        if staff is not None:
            self.add_update(
                "public.profiles", staff.id, {"deactivated_at": "now()"}, f"deactivate staff {staff.label}"
            )
        # README §8b: an erased profile, "Erased person" placeholders above all, is immutable for everyone.
        # Preferably one of the caller's organization (what a client admin would reach), else any.
        erased = self.pick([u for u in profiles if u.erased and u.org == self.home]) or self.pick(
            [u for u in profiles if u.erased]
        )
        if erased is not None:
            self.add_update(
                "public.profiles",
                erased.id,
                {"first_name": "Revealed", "surname": "Again"},
                f"rename erased {erased.label}",
            )
            self.add_update(
                "public.profiles", erased.id, {"deactivated_at": None}, f"reactivate erased {erased.label}"
            )
            self.add_update(
                "public.profiles",
                erased.id,
                {"role": "client_admin" if erased.org else "admin"},
                f"change the role of erased {erased.label}",
            )
            self.add_delete("public.profiles", erased.id, f"delete erased {erased.label}")
        spare = self.pick([u for u in w.users if not u.has_profile and not u.anonymous])
        if spare is not None:
            base = {"id": spare.id, "first_name": "New", "surname": "Member", "email": self.email()}
            self.add_insert(
                "public.profiles",
                {**base, "organization_id": self.home, "role": "client_member"},
                "attach a profile-less account to own org (no invitation)",
            )
            self.add_insert(
                "public.profiles",
                {**base, "organization_id": self.other, "role": "client_member"},
                "attach a profile-less account to another org (no invitation)",
            )
            self.add_insert(
                "public.profiles",
                {**base, "organization_id": None, "role": "agent"},
                "attach a profile-less account as an agent (no invitation)",
            )

    def agent_assignments(self) -> None:
        w = self.w
        agents = [u for u in w.users if u.role == "agent"]
        agent = w.user(self.me) if self.c.role == "agent" else self.pick(agents)
        if agent is not None:
            org = self.ch.choice(w.orgs).id
            row = {"agent_id": agent.id, "organization_id": org}
            verdict = model.may_insert(w, self.ident, "public.agent_assignments", row)
            exists = any(a.agent == agent.id and a.org == org for a in w.assignments)
            if verdict.allowed and not verdict.errors and exists:
                verdict = Verdict.ok(0, "the pair exists: do nothing")
            self.probes.append(
                WriteProbe(
                    "public.agent_assignments",
                    "UPSERT",
                    f"assign {agent.label} to an org (on conflict do nothing)",
                    _insert(
                        "public.agent_assignments", row, " on conflict (agent_id, organization_id) do nothing"
                    ),
                    None,
                    row,
                    verdict,
                )
            )
        mine = [a for a in w.assignments if a.agent == self.me]
        target = self.pick(mine or w.assignments)
        if target is not None:
            self.add_update(
                "public.agent_assignments",
                target.id,
                {"organization_id": self.other},
                f"re-point {target.label}",
            )
            self.add_delete("public.agent_assignments", target.id, f"delete {target.label}")

    def tickets(self) -> None:
        w, me = self.w, self.me
        base = {"subject": "Probe", "description": "Probe ticket", "priority": "normal"}
        self.add_insert(
            "public.tickets",
            {**base, "organization_id": self.home, "requester_id": me, "status": "new", "assignee_id": None},
            "open a ticket in own org as self",
        )
        colleague = self.pick([u for u in w.users if u.org == self.home and u.id != me])
        if colleague is not None:
            self.add_insert(
                "public.tickets",
                {**base, "organization_id": self.home, "requester_id": colleague.id, "status": "new"},
                f"open a ticket for {colleague.label} (forged requester)",
            )
        self.add_insert(
            "public.tickets",
            {**base, "organization_id": self.other, "requester_id": me, "status": "new"},
            "open a ticket in another org",
        )
        self.add_insert(
            "public.tickets",
            {**base, "organization_id": self.home, "requester_id": me, "status": "resolved"},
            "open a ticket already resolved",
        )
        admin = self.pick([u for u in w.users if u.role == "admin" and not u.deactivated])
        if admin is not None:
            self.add_insert(
                "public.tickets",
                {
                    **base,
                    "organization_id": self.home,
                    "requester_id": me,
                    "status": "new",
                    "assignee_id": admin.id,
                },
                f"open a ticket assigned to {admin.label}",
            )
        self._on_behalf(base)
        seen = [t for t in w.tickets if model.ticket_visible(w, self.c, t)]
        unseen = [t for t in w.tickets if not model.ticket_visible(w, self.c, t)]
        for t in filter(None, (self.pick(seen), self.pick(unseen))):
            status = self.ch.choice(TICKET_STATUSES)
            self.add_update("public.tickets", t.id, {"status": status}, f"{t.label}: {t.status} -> {status}")
        t = self.pick(seen) or self.pick(w.tickets)
        if t is not None:
            priority = self.ch.choice([x for x in model.PRIORITIES if x != t.priority])
            self.add_update("public.tickets", t.id, {"priority": priority}, f"{t.label}: priority {priority}")
            self.add_update("public.tickets", t.id, {"assignee_id": me}, f"{t.label}: assign to self")
            self.add_update(
                "public.tickets", t.id, {"organization_id": self.other}, f"{t.label}: move to another org"
            )
            self.add_update("public.tickets", t.id, {"requester_id": me}, f"{t.label}: forge requester")
            self.add_update("public.tickets", t.id, {"subject": "Changed"}, f"{t.label}: change subject")
            self.add_delete("public.tickets", t.id, f"delete {t.label}")

    def _on_behalf(self, base: dict[str, Any]) -> None:
        """Tickets opened for somebody else (README §3 tickets INSERT, agent: a phone call): for a client of an
        organization assigned to the caller when there is one, of any organization, a deactivated one,
        assigned to self, already open, and filed under another organization than the requester's."""
        w, me = self.w, self.me
        assigned = model.assigned_orgs(w, self.c)
        clients = [u for u in w.users if u.has_profile and u.role in CLIENT_ROLES and u.id != me]
        near = [u for u in clients if u.org in assigned] or clients
        gone = [u for u in near if u.deactivated]
        for requester in filter(None, (self.pick(near), self.pick(clients), self.pick(gone))):
            self.add_insert(
                "public.tickets",
                {**base, "organization_id": requester.org, "requester_id": requester.id, "status": "new"},
                f"open a ticket on behalf of {requester.label}",
            )
        requester = self.pick(near)
        if requester is None:
            return
        row = {**base, "organization_id": requester.org, "requester_id": requester.id, "status": "new"}
        self.add_insert(
            "public.tickets",
            {**row, "assignee_id": me},
            f"open a ticket for {requester.label}, assigned to self",
        )
        self.add_insert(
            "public.tickets", {**row, "status": "open"}, f"open a ticket for {requester.label}, already open"
        )
        elsewhere = self.ch.choice([o.id for o in w.orgs if o.id != requester.org] or [requester.org])
        self.add_insert(
            "public.tickets",
            {**row, "organization_id": elsewhere},
            f"open a ticket for {requester.label} under another organization",
        )

    def _content(self, table: str, author_col: str) -> None:
        w, me = self.w, self.me
        seen = [t for t in w.tickets if model.ticket_visible(w, self.c, t)]
        unseen = [t for t in w.tickets if not model.ticket_visible(w, self.c, t)]
        t = self.pick(seen) or self.pick(w.tickets)
        noun = "message" if table == "public.ticket_messages" else "attachment"

        def row(ticket: model.Ticket, author: uuid.UUID, internal: bool) -> dict[str, Any]:
            if table == "public.ticket_messages":
                return {"ticket_id": ticket.id, "author_id": author, "body": "Probe", "internal": internal}
            return {
                "ticket_id": ticket.id,
                "organization_id": ticket.org,
                "uploaded_by": author,
                "internal": internal,
                "file_name": "probe.txt",
                "content_type": "text/plain",
                "size_bytes": 1,
                "sha256": "b" * 64,
            }

        if t is not None:
            self.add_insert(table, row(t, me, False), f"{noun} on {t.label} as self")
            self.add_insert(table, row(t, me, True), f"internal {noun} on {t.label}")
            other = self.pick([u for u in w.users if u.has_profile and u.id != me])
            if other is not None:
                self.add_insert(
                    table,
                    row(t, other.id, False),
                    f"{noun} on {t.label} as {other.label} (forged {author_col})",
                )
        hidden = self.pick(unseen)
        if hidden is not None:
            self.add_insert(table, row(hidden, me, False), f"{noun} on unseen {hidden.label}")
        items: Sequence[Any] = w.messages if table == "public.ticket_messages" else w.attachments
        target = self.pick(items)
        if target is not None:
            col = "body" if table == "public.ticket_messages" else "file_name"
            self.add_update(table, target.id, {col: "edited"}, f"edit {target.label}")
            self.add_delete(table, target.id, f"delete {target.label}")

    def storage(self) -> None:
        w, me = self.w, self.me
        pending = [a for a in w.attachments if not a.has_object]
        mine = [a for a in pending if a.uploaded_by == me]
        a = self.pick(mine) or self.pick(pending)
        if a is not None:
            self.add_insert(
                "storage.objects",
                {"bucket_id": "attachments", "name": a.storage_path, "owner": me},
                f"upload {a.label}'s file",
            )
        uploaded = [a for a in w.attachments if a.has_object]
        b = self.pick(uploaded)
        if b is not None:
            self.add_insert(
                "storage.objects",
                {"bucket_id": "attachments", "name": b.storage_path, "owner": me},
                f"re-upload {b.label}'s file",
            )
            sql = _insert(
                "storage.objects",
                {"bucket_id": "attachments", "name": b.storage_path, "owner": me},
                " on conflict (bucket_id, name) do update set metadata = '{\"overwritten\": true}'",
            )
            self.probes.append(
                WriteProbe(
                    "storage.objects",
                    "UPSERT",
                    f"overwrite {b.label}'s file (upsert)",
                    sql,
                    None,
                    {},
                    Verdict.deny("§3 storage.objects UPDATE: nobody"),
                )
            )
        path = f"{self.other}/{uuid.uuid5(self.me, 'x')}/{uuid.uuid5(self.me, 'y')}"
        self.add_insert(
            "storage.objects",
            {"bucket_id": "attachments", "name": path, "owner": me},
            "upload into another org's folder",
        )
        self.add_insert(
            "storage.objects",
            {"bucket_id": f"{OTHER_BUCKET}-{self.w.salt}", "name": f"{self.home}/probe.csv", "owner": me},
            "upload into another bucket",
        )
        obj = self.ch.choice(w.objects)
        self.add_update("storage.objects", obj.id, {"metadata": '{"x": 1}'}, f"edit {obj.label}'s metadata")
        self.add_delete("storage.objects", obj.id, f"delete {obj.label}")

    def audit_and_dsr(self) -> None:
        w, me = self.w, self.me
        self.add_insert(
            "public.audit_log",
            {"actor_id": me, "action": "read", "object_table": "tickets"},
            "forge an audit entry",
        )
        own = [a for a in w.audit if a.actor == me]
        a = self.pick(own) or self.pick(w.audit)
        if a is not None:
            self.add_update("public.audit_log", a.id, {"user_agent": "forged"}, f"rewrite {a.label}")
            self.add_delete("public.audit_log", a.id, f"erase {a.label}")
        me_user = w.user(me)
        self.add_insert(
            "public.dsr_requests",
            {
                "subject_id": me if me_user and me_user.has_profile else None,
                "subject_email": "dsr@x.example",
                "type": "access",
            },
            "file a data-subject request",
        )
        mine = [d for d in w.dsrs if d.subject == me]
        d = self.pick(mine) or self.pick(w.dsrs)
        if d is not None:
            self.add_update("public.dsr_requests", d.id, {"notes": "changed"}, f"annotate {d.label}")
            self.add_delete("public.dsr_requests", d.id, f"delete {d.label}")

    def reference(self) -> None:
        """One command per SLA table (chosen), so each identity costs few probes and all are covered."""
        w = self.w
        cal = next(r.id for r in w.reference if r.label == "cal1")
        n = self.fresh()
        inserts: dict[str, dict[str, Any]] = {
            "public.business_calendars": {
                "name": f"Probe calendar {n} #{w.salt}",
                "time_zone": "Europe/Brussels",
            },
            "public.business_hours": {
                "calendar_id": cal,
                "day_of_week": 3,
                "opens_at": "09:00",
                "closes_at": "12:00",
            },
            "public.holidays": {"calendar_id": cal, "day": "2027-05-01", "name": "Labour Day"},
            "public.sla_plans": {"code": f"probe_{n}_s{w.salt}", "name": "Probe", "calendar_id": cal},
            "public.sla_policies": {
                "plan_id": plan_id(w),
                "priority": "urgent",
                "first_response_minutes": 15,
                "next_response_minutes": 30,
                "resolution_minutes": 60,
            },
        }
        updates: dict[str, dict[str, Any]] = {
            "public.business_calendars": {"name": "Renamed calendar"},
            "public.business_hours": {"closes_at": "23:30"},
            "public.holidays": {"name": "Renamed holiday"},
            "public.sla_plans": {"name": "Renamed plan"},
            "public.sla_policies": {"resolution_minutes": 999},
        }
        for table in SLA_TABLES:
            rows = [r for r in w.reference if r.table == table]
            command = self.ch.choice(["INSERT", "UPDATE", "DELETE"])
            if command == "INSERT":
                self.add_insert(table, inserts[table], f"add a {table} row")
            elif command == "UPDATE":
                r = self.ch.choice(rows)
                self.add_update(table, r.id, updates[table], f"change {r.label}")
            else:
                r = self.ch.choice(rows)
                self.add_delete(table, r.id, f"delete {r.label}")


def plan_writes(world: World, ident: Identity, ch: Chooser) -> list[WriteProbe]:
    """Every write probe of `ident` in `world` (targets chosen by `ch`), each with the model's verdict."""
    p = _Planner(world, ident, ch)
    p.organizations()
    p.profiles()
    p.agent_assignments()
    p.tickets()
    p._content("public.ticket_messages", "author_id")
    p._content("public.attachments", "uploaded_by")
    p.storage()
    p.audit_and_dsr()
    p.reference()
    return p.probes


# --- Running probes ------------------------------------------------------------------------------------


def identities(world: World) -> list[Identity]:
    return [Identity(None), *(Identity(u) for u in world.users)]


def exposed_relations(conn: psycopg.Connection) -> list[str]:
    """Tables, views, matviews and foreign tables in the API schemas (what a caller can name)."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
        order by 1
        """,
        (list(EXPOSED_SCHEMAS),),
    ).fetchall()
    return [r[0] for r in rows]


def snapshot(conn: psycopg.Connection, tables: Iterable[str]) -> dict[str, dict[str, str]]:
    """The owner's view: table -> {id: md5(row)}."""
    parts = [f"select {lit(t)}, id::text, md5(x::text) from {t} as x" for t in tables]  # noqa: S608
    out: dict[str, dict[str, str]] = {t: {} for t in tables}
    for table, row_id, digest in conn.execute(" union all ".join(parts)).fetchall():
        out[table][row_id] = digest
    return out


def _enter(ident: Identity) -> str:
    claims = ident.claims()
    role = "anon" if claims is None else "authenticated"
    payload = json.dumps(claims if claims is not None else {"role": "anon"})
    return f"savepoint ident; set local role {role}; select set_config('request.jwt.claims', {lit(payload)}, true)"


def observe(
    conn: psycopg.Connection,
    world: World,
    ident: Identity,
    *,
    relations: Sequence[str] = TABLES,
    writes: Sequence[WriteProbe] = (),
) -> Observation:
    """Ask the database what `ident` reads (every relation) and what each write probe does.

    `conn` is an owner connection inside the world's transaction; everything done here is rolled back.
    """
    cur = psycopg.ClientCursor(conn)
    cur.execute(_enter(ident))
    obs = Observation(ident, {}, {})
    union = " union all ".join(f"select {lit(t)}, id::text from {t}" for t in relations)  # noqa: S608
    for t in relations:
        obs.reads[t] = set()
    try:
        cur.execute(f"savepoint r; {union}; release savepoint r")
        for table, row_id in _results(cur)[0]:
            obs.reads[table].add(row_id)
    except psycopg.Error:
        cur.execute("rollback to savepoint r")
        for t in relations:  # one by one: some refuse outright (anon has no privilege on public tables)
            try:
                cur.execute(f"savepoint r; select id::text from {t}; release savepoint r")  # noqa: S608
                obs.reads[t] = {r[0] for r in _results(cur)[0]}
            except psycopg.Error as e:
                cur.execute("rollback to savepoint r")
                obs.read_errors[t] = e.sqlstate or "?"
    # The display-name helper (README §6), asked about everybody: it must answer exactly the model's names.
    asked = ",".join(lit(i) for i in [*(u.id for u in world.users), uuid.UUID(int=world.salt + 1)])
    try:
        cur.execute(
            f"savepoint n; select n.id::text, n.name from private.display_names(array[{asked}]::uuid[]) as n;"  # noqa: S608 (uuid literals)
            " release savepoint n"
        )
        obs.names = dict(_results(cur)[0])
    except psycopg.Error as e:
        cur.execute("rollback to savepoint n")
        obs.names_error = e.sqlstate or "?"
    # One round trip per write: the savepoint `w` is made once and rolled back to after every attempt (it
    # stays defined); after a failed attempt the rollback leads the next round trip instead.
    cur.execute("savepoint w")
    pending_rollback = ""
    for probe in writes:
        outcome = _attempt(cur, probe, pending_rollback)
        pending_rollback = "rollback to savepoint w; " if outcome.sqlstate else ""
        obs.writes.append((probe, outcome))
    cur.execute(f"{pending_rollback}rollback to savepoint ident")
    return obs


def _results(cur: psycopg.ClientCursor) -> list[list[tuple[Any, ...]]]:
    """The row sets of a multi-statement execute, in order (statements without rows skipped)."""
    out: list[list[tuple[Any, ...]]] = []
    while True:
        if cur.description is not None:
            out.append(cur.fetchall())
        if not cur.nextset():
            return out


def _attempt(cur: psycopg.ClientCursor, probe: WriteProbe, prefix: str) -> WriteOutcome:
    target_sql = (
        f"select to_jsonb(x) from {probe.table} as x where id = {lit(probe.target)}"  # noqa: S608
        if probe.target
        else "select null::jsonb"
    )
    sql = (
        f"{prefix}{probe.statement}; reset role; "  # noqa: S608
        f"select id::text, md5(x::text) from {probe.table} as x; {target_sql}; rollback to savepoint w"
    )
    try:
        cur.execute(sql)
    except psycopg.Error as e:
        return WriteOutcome(e.sqlstate, (e.diag.message_primary or str(e)), [], {}, None)
    results = _results(cur)
    returned = results.pop(0) if probe.verdict.allowed else []
    after, target = results
    return WriteOutcome(
        None, None, [r[0] for r in returned], {r[0]: r[1] for r in after}, target[0][0] if target else None
    )


# --- Comparing ------------------------------------------------------------------------------------------


class _Namer:
    def __init__(self, world: World) -> None:
        self.labels = world.labels()

    def rows(self, ids: Iterable[str]) -> str:
        return "{" + ", ".join(sorted(self.labels.get(i, i) for i in ids)) + "}"


def compare(
    world: World, obs: Observation, baseline: Mapping[str, Mapping[str, str]] | None = None
) -> list[Violation]:
    """Model vs. database for one identity: every difference is a violation (too much and too little)."""
    name = _Namer(world)
    who = obs.identity.describe(world)
    out: list[Violation] = []
    for table, seen in obs.reads.items():
        try:
            expected = model.visible(world, obs.identity, table)
        except KeyError:
            out.append(
                Violation(
                    "UNMODELLED",
                    who,
                    table,
                    "SELECT",
                    frozenset(seen),
                    f"UNMODELLED: {table} is exposed to the API but the model (db/rls/model.py) has no rule for it; "
                    f"{who} saw {name.rows(seen)}",
                )
            )
            continue
        if leaked := seen - expected:
            out.append(
                Violation(
                    "LEAK",
                    who,
                    table,
                    "SELECT",
                    frozenset(leaked),
                    f"LEAK: {who} SELECT {table} saw rows {name.rows(leaked)} the spec forbids",
                )
            )
        if missing := expected - seen:
            why = f" (error {obs.read_errors[table]})" if table in obs.read_errors else ""
            out.append(
                Violation(
                    "OVER-RESTRICTION",
                    who,
                    table,
                    "SELECT",
                    frozenset(missing),
                    f"OVER-RESTRICTION: {who} SELECT {table} did not see rows {name.rows(missing)} the spec allows{why}",
                )
            )
    out.extend(_compare_names(world, who, name, obs))
    for probe, outcome in obs.writes:
        out.extend(_compare_write(world, who, name, probe, outcome, (baseline or {}).get(probe.table)))
    return out


DISPLAY_NAMES = "private.display_names"


def _compare_names(world: World, who: str, name: _Namer, obs: Observation) -> list[Violation]:
    """README §6 private.display_names: anon is refused (42501); everyone else gets exactly the model's ids,
    each with `first_name surname` as loaded (db/rls/worlds.py: 'User <label>', 'Tester')."""
    expected = model.display_names(world, obs.identity, (u.id for u in world.users))

    def violation(kind: str, rows: Iterable[str], text: str) -> Violation:
        return Violation(kind, who, DISPLAY_NAMES, "EXECUTE", frozenset(rows), f"{kind}: {who} {text}")

    if expected is None:
        if obs.names_error == "42501":
            return []
        said = f"error {obs.names_error}" if obs.names_error else f"names of {name.rows(obs.names)}"
        return [violation("LEAK", obs.names, f"called {DISPLAY_NAMES}: expected 42501, got {said}")]
    if obs.names_error is not None:
        return [
            violation("OVER-RESTRICTION", expected, f"called {DISPLAY_NAMES}: refused with {obs.names_error}")
        ]
    out = []
    if leaked := set(obs.names) - expected:
        out.append(violation("LEAK", leaked, f"{DISPLAY_NAMES} named {name.rows(leaked)} the spec forbids"))
    if missing := expected - set(obs.names):
        out.append(
            violation(
                "OVER-RESTRICTION",
                missing,
                f"{DISPLAY_NAMES} did not name {name.rows(missing)} the spec allows",
            )
        )
    users = {str(u.id): u for u in world.users}
    c = model.caller(world, obs.identity)
    wrong = {
        i
        for i, n in obs.names.items()
        if i in users and n != model.display_name(world, c, users[i], f"User {users[i].label}", "Tester")
    }
    if wrong:
        out.append(
            violation("WRONG-OUTCOME", wrong, f"{DISPLAY_NAMES} gave wrong names for {name.rows(wrong)}")
        )
    return out


def _compare_write(
    world: World,
    who: str,
    name: _Namer,
    probe: WriteProbe,
    o: WriteOutcome,
    before: Mapping[str, str] | None,
) -> list[Violation]:
    v = probe.verdict
    head = f"{who} {probe.command} {probe.table} ({probe.description})"
    target = frozenset({probe.target} if probe.target else set())

    def violation(kind: str, rows: Iterable[str], text: str) -> Violation:
        return Violation(
            kind,
            who,
            probe.table,
            probe.command,
            frozenset(rows),
            f"{kind}: {head} {text} [spec: {v.why or 'allowed'}]",
        )

    db_said = (
        f"error {o.sqlstate}: {o.message}"
        if o.sqlstate
        else f"{len(o.returned)} row(s) {name.rows(o.returned)}"
    )
    changed: set[str] = set()
    if before is not None and o.sqlstate is None:
        changed = {i for i in set(before) | set(o.after) if before.get(i) != o.after.get(i)}

    if not v.allowed:
        if o.sqlstate is None and (o.returned or changed):
            return [
                violation(
                    "LEAK",
                    set(o.returned) | changed,
                    f"changed rows {name.rows(set(o.returned) | changed)} the spec forbids",
                )
            ]
        return []
    if v.errors:
        if o.sqlstate in v.errors:
            return []
        kind = "OVER-RESTRICTION" if o.sqlstate == "42501" else "WRONG-OUTCOME"
        return [
            violation(kind, target, f"expected error {'/'.join(sorted(v.errors))}, database said {db_said}")
        ]
    if o.sqlstate is not None or len(o.returned) < v.rows:
        return [violation("OVER-RESTRICTION", target, f"was refused ({db_said}); the spec allows it")]
    if len(o.returned) > v.rows:
        return [violation("LEAK", o.returned, f"affected {db_said}, expected {v.rows}")]
    if before is not None:
        expected_changed = set(o.returned) if probe.command in ("INSERT", "DELETE", "UPSERT") else set()
        stray = changed - expected_changed - target
        if stray:
            return [violation("LEAK", stray, f"also changed rows {name.rows(stray)}")]
        if probe.command == "DELETE" and probe.target in o.after:
            return [violation("WRONG-OUTCOME", target, "reported the delete but the row is still there")]
        if probe.command == "UPDATE" and o.target_after is not None:
            for col, val in probe.changes.items():
                if (
                    val != "now()"
                    and str(o.target_after.get(col)) != str(val)
                    and not _same(o.target_after.get(col), val)
                ):
                    return [
                        violation(
                            "WRONG-OUTCOME",
                            target,
                            f"reported the update but {col} is {o.target_after.get(col)!r}",
                        )
                    ]
    return []


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return stored == wanted
    return str(stored).startswith(str(wanted))


# --- One world, many worlds ------------------------------------------------------------------------------


@dataclass
class WorldResult:
    violations: list[Violation]
    probes: int
    identities: int
    denial_codes: Counter[str]
    # Each violation in full words (db/rls/report.py): identity, table, command, rows and their tenant, rule.
    explanations: list[str] = field(default_factory=list)


def check_world(
    conns: psycopg.Connection | Sequence[psycopg.Connection],
    world: World,
    ch: Chooser,
    *,
    relations: Sequence[str] | None = None,
    writers: int | None = None,
    grid: report.Grid | None = None,
) -> WorldResult:
    """Load `world` on each owner connection (autocommit; one transaction each, rolled back at the end),
    probe every identity's reads and the writes of `writers` identities chosen by `ch` (None = all), compare.

    With several connections the identities are shared out and probed in parallel threads (the policies'
    cost is on the server: two connections use two cores).
    """
    pool = [conns] if isinstance(conns, psycopg.Connection) else list(conns)
    relations = list(relations if relations is not None else exposed_relations(pool[0]))
    idents = identities(world)
    writing = set(range(len(idents)))
    if writers is not None and writers < len(idents):
        writing = set()
        while len(writing) < writers:
            writing.add(ch.integer(0, len(idents) - 1))
    # Share the work out evenly (writers, the expensive ones, dealt first); connection k probes its own copy
    # of the world (`resalt`), so concurrent transactions never wait on each other's unique keys.
    order = sorted(range(len(idents)), key=lambda i: (i not in writing, i))
    shares = [order[k :: len(pool)] for k in range(len(pool))]
    copies = [resalt(world, k) for k in range(len(pool))]
    plans = {
        (k, i): plan_writes(copies[k], identities(copies[k])[i], ch)
        for k in range(len(pool))
        for i in shares[k]
        if i in writing
    }

    def run(k: int) -> tuple[World, dict[str, dict[str, str]], list[Observation]]:
        conn, w = pool[k], copies[k]
        conn.execute("begin")
        try:
            load_world(conn, w)
            base = snapshot(conn, [t for t in relations if t in TABLES])
            ids = identities(w)
            return (
                w,
                base,
                [
                    observe(conn, w, ids[i], relations=relations, writes=plans.get((k, i), ()))
                    for i in shares[k]
                ],
            )
        finally:
            conn.execute("rollback")

    if len(pool) == 1:
        results = [run(0)]
    else:
        with ThreadPoolExecutor(len(pool)) as ex:
            results = list(ex.map(run, range(len(pool))))
    violations: list[Violation] = []
    explanations: list[str] = []
    probes = 0
    codes: Counter[str] = Counter()
    for w, base, observations in results:
        if grid is not None:
            report.record_observations(grid, w, observations)
        for obs in observations:
            probes += len(relations) + 1 + len(obs.writes)  # + 1: private.display_names
            found = compare(w, obs, base)
            violations.extend(found)
            for v in found:
                explanations.append(report.explain(v, w, obs.identity))
                if grid is not None:
                    grid.flag(report.identity_kind(w, obs.identity), v.table, v.command, explanations[-1])
            codes.update(o.sqlstate or "ok" for p, o in obs.writes if not p.verdict.allowed)
    return WorldResult(violations, probes, len(idents), codes, explanations)


def run_isolation(
    dsn: str, examples: int = 10, seed: int = 0, *, writers: int | None = 6, connections: int = 2
) -> Report:
    """The isolation suite without pytest: `examples` seeded worlds against the migrated database `dsn`.

    Deterministic for a given seed. Returns every violation (empty: the database matches the spec on those
    worlds); loading or probing errors propagate (the mutation tool counts them as a kill). The database is
    left exactly as it was (each world is rolled back).
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    violations: list[Violation] = []
    probes = idents = 0
    codes: Counter[str] = Counter()
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(max(1, connections))]
    pids = [conn.info.backend_pid for conn in conns]
    server_started = _backend_cpu(pids)
    server_cpu = None
    try:
        relations = exposed_relations(conns[0])
        for n in range(examples):
            world_seed = seed * 1_000_003 + n
            ch = RandomChooser(random.Random(world_seed ^ 0x5EED))  # noqa: S311
            result = check_world(conns, random_world(world_seed), ch, relations=relations, writers=writers)
            violations.extend(result.violations)
            probes += result.probes
            idents += result.identities
            codes.update(result.denial_codes)
        server_ended = _backend_cpu(pids)
        if server_started is not None and server_ended is not None:
            server_cpu = server_ended - server_started
    finally:
        for conn in conns:
            conn.close()
    return Report(
        violations,
        probes,
        examples,
        idents,
        time.perf_counter() - started,
        codes,
        server_cpu,
        time.process_time() - cpu_started,
    )


def _backend_cpu(pids: Sequence[int]) -> float | None:
    """User + system CPU seconds of the given server processes (Linux /proc; None when unreadable)."""
    total = 0.0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total
