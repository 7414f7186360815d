"""Mutant killers that do not need the property-based isolation suite: a fixed world and an attack catalogue.

`build_world(conn)` writes one small, hand-made world (three organizations, every kind of identity, tickets,
messages, internal notes, attachments and their files, audit and DSR rows) as the owner. The checks then
ask the database, as PostgREST would (`set local role` + JWT claims, one rolled-back transaction each):

- `reads`: every identity (anon, stranger, deactivated client, members of a private and of a sharing
  organization, a client admin, agents at aal2 and aal1, admins at aal2 and aal1) x every table: exactly the
  rows db/policies/README.md §3 allows;
- `writes`: a catalogue of writes around each rule's edges (other tenant, other author, internal notes by
  clients, staff below aal2, strangers, unconditional UPDATE/DELETE) has exactly the outcome the spec gives:
  allowed on so many rows, refused (zero rows or 42501), or failing a data rule;
- `columns`: README §4 column privileges: every listed column is writable by `authenticated`, every other
  column is refused with 42501 (a statement touching no row still checks privileges);
- `sweeper`: the storage sweeper deletes exactly the queued objects, nobody else any;
- `structure`: README §5 invariants no request can observe today (FORCE, `to authenticated`, one
  restrictive MFA policy per table, pinned helper search_path, security_invoker views). A mutant only this
  check kills is behaviourally equivalent under the API roles; the report says so.

Every expectation is db/rls/model.py's answer (the one oracle, also the isolation suite's) about the fixed
world as the owner reads it (`model_world()`); this file holds the world and the statements, no rule. A rule
change is made in the spec, the policy file and the model (db/policies/README.md "Changing a rule").

Each check returns violations as sentences; `run_killers(dsn)` returns {check name: violations}.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from db import testing_world as make
from db.rls import model
from db.rls.probe import lit

DENIED_CODES = {"42501"}  # insufficient_privilege: RLS refusal or missing column/table privilege
SPARE = "spare"


@dataclass
class FixedWorld:
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def __getitem__(self, label: str) -> uuid.UUID:
        return self.ids[label]

    def label(self, value: object) -> str:
        for name, known in self.ids.items():
            if str(known) == str(value):
                return name
        return str(value)


# (label, role or None for no profile, organization label, aal claim, deactivated)
PEOPLE = (
    ("member_a1", "client_member", "org_a", "aal1", False),
    ("member_a2", "client_member", "org_a", "aal1", False),
    ("member_a3_off", "client_member", "org_a", "aal1", True),
    ("cadmin_a", "client_admin", "org_a", "aal1", False),
    ("member_b1", "client_member", "org_b", "aal1", False),
    ("member_b2", "client_member", "org_b", "aal1", False),
    ("agent_a", "agent", None, "aal2", False),
    ("agent_b", "agent", None, "aal2", False),
    ("agent_off", "agent", None, "aal2", True),  # deactivated after being assigned: must see nothing
    ("admin", "admin", None, "aal2", False),
    ("stranger", None, None, "aal1", False),
    ("newbie", None, None, "aal1", False),  # an auth user awaiting a profile (INSERT target)
)
# Identities the checks run as: (name, user label or None for anon, aal claim).
IDENTITIES = (
    ("anon", None, None),
    ("stranger", "stranger", "aal1"),
    ("member_a3_off", "member_a3_off", "aal1"),
    ("member_a1", "member_a1", "aal1"),
    ("member_b1", "member_b1", "aal1"),
    ("cadmin_a", "cadmin_a", "aal1"),
    ("agent_a", "agent_a", "aal2"),
    ("agent_a@aal1", "agent_a", "aal1"),
    ("agent_b", "agent_b", "aal2"),
    ("agent_off", "agent_off", "aal2"),
    ("admin", "admin", "aal2"),
    ("admin@aal1", "admin", "aal1"),
)
# agent_b also has the empty organization: an agent of two organizations must not file a ticket of one under
# the other (README §3 tickets INSERT, agent).
ASSIGNED = {"agent_a": {"org_a"}, "agent_b": {"org_b", "org_e"}, "agent_off": {"org_b"}}
SHARED = {"org_a": False, "org_b": True, "org_e": False}


def _one(conn: psycopg.Connection, query: str, params: tuple = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def build_world(conn: psycopg.Connection) -> FixedWorld:
    """Write the fixed world as the owner (caller commits), with db/testing_world.py's builders. Returns the
    labels of every row."""
    w = FixedWorld()
    ids = w.ids
    ids["cal"] = make.calendar(conn, "Brussels")
    ids["cal_spare"] = make.calendar(conn, "Spare")
    ids["plan"] = make.sla_plan(conn, ids["cal"], code="std", name="Std")
    ids["plan_spare"] = make.sla_plan(conn, ids["cal"], code="spare", name="Spare")
    ids["slapol"] = make.sla_policy(conn, ids["plan"], "normal", 60, 120, 480)
    ids["hours"] = make.business_hours(conn, ids["cal"], 1, "09:00", "17:00")
    ids["holiday"] = make.holiday(conn, ids["cal"], "2026-12-25", "Christmas")
    for label, name in (("org_a", "Alpha"), ("org_b", "Beta"), ("org_e", "Empty")):
        ids[label] = make.organization(
            conn, name, ids["plan"], contract_start="2026-01-01", shared_tickets=SHARED[label]
        )
    for label, role, org, _aal, _off in PEOPLE:
        ids[label] = make.person(conn, f"{label}@example.be", role, ids[org] if org else None)
    for agent, orgs in ASSIGNED.items():
        for org in sorted(orgs):  # the first one is `asg_<agent>`, any other `asg_<agent>_<org>`
            label = f"asg_{agent}" if f"asg_{agent}" not in ids else f"asg_{agent}_{org}"
            ids[label] = make.assign(conn, ids[agent], ids[org])
    # Deactivated only now: an agent is assignable only while active (private.check_agent_assignment()).
    for label, _role, _org, _aal, off in PEOPLE:
        if off:
            conn.execute("update public.profiles set deactivated_at = now() where id = %s", (ids[label],))
    # README §8b: org_a's "Erased person" placeholder, made by the function an erasure uses, and a person of
    # org_a anonymised before 0240 (profile kept, erased_at set). Nobody may write either.
    ids["placeholder_a"] = _one(conn, "select private.erased_person_placeholder(%s)", (ids["org_a"],))
    ids["erased_a"] = uuid.uuid4()
    conn.execute("insert into auth.users (id) values (%s)", (ids["erased_a"],))
    conn.execute(
        "insert into public.profiles (id, organization_id, role, first_name, surname, email, deactivated_at,"
        " erased_at) values (%s, %s, 'client_member', 'Erased', 'person', %s, now(), now())",
        (ids["erased_a"], ids["org_a"], f"erased-{ids['erased_a']}@erased.invalid"),
    )
    for label, org, requester in (
        ("t_a1", "org_a", "member_a1"),
        ("t_a2", "org_a", "member_a2"),
        ("t_b1", "org_b", "member_b1"),
        ("t_b2", "org_b", "member_b2"),
    ):
        ids[label] = make.ticket(conn, ids[org], ids[requester], subject="Printer", description="On fire")
    for label, ticket, author, internal in (
        ("m_a1", "t_a1", "member_a1", False),
        ("n_a1", "t_a1", "agent_a", True),
        ("m_a2", "t_a2", "member_a2", False),
        ("m_b1", "t_b1", "member_b1", False),
        ("n_b1", "t_b1", "agent_b", True),
    ):
        ids[label] = make.message(conn, ids[ticket], ids[author], "Hi", internal=internal)
    paths: dict[str, str] = {}
    for label, ticket, org, by, internal, with_object in (
        ("f_a1", "t_a1", "org_a", "member_a1", False, True),
        ("f_a1i", "t_a1", "org_a", "agent_a", True, True),
        ("f_a2", "t_a2", "org_a", "member_a2", False, True),
        ("f_b1", "t_b1", "org_b", "member_b1", False, True),
        ("f_a1_pending", "t_a1", "org_a", "member_a1", False, False),  # uploaded row, file not yet sent
        ("f_a2_pending", "t_a2", "org_a", "member_a2", False, False),
        ("f_a1i_pending", "t_a1", "org_a", "agent_a", True, False),
    ):
        ids[label], paths[label] = make.attachment(conn, ids[ticket], ids[org], ids[by], internal=internal)
        if with_object:
            ids[f"o_{label[2:]}"] = make.stored_object(conn, paths[label])
    conn.execute("insert into storage.buckets (id, name) values ('other', 'other') on conflict do nothing")
    ids["o_other"] = make.stored_object(conn, paths["f_a1"], bucket="other")
    for label, actor in (
        ("au_a1", "member_a1"),
        ("au_b1", "member_b1"),
        ("au_agent_a", "agent_a"),
        ("au_a3_off", "member_a3_off"),
    ):
        ids[label] = make.audit_entry(conn, ids[actor])
    for label, subject in (("dsr_a1", "member_a1"), ("dsr_b1", "member_b1"), ("dsr_a3_off", "member_a3_off")):
        ids[label] = make.dsr_request(conn, ids[subject], f"{subject}@example.be")
    # One attachment object queued for the storage sweeper (db/schema/0270), as an erasure would queue it.
    conn.execute(
        "insert into private.storage_deletions (bucket_id, name, reason)"
        " select o.bucket_id, o.name, 'erasure' from storage.objects as o where o.id = %s",
        (ids["o_a1"],),
    )
    # Pending invitations (db/schema/0280): one per client organization, one for NexK staff.
    for label, org, role in (("inv_a", "org_a", "client_member"), ("inv_b", "org_b", "client_admin"),
                             ("inv_staff", None, "agent")):  # fmt: skip
        ids[label] = make.invitation(
            conn, f"{label}@example.be", role, ids[org] if org else None, nonce=label
        )
    conn.execute(
        "create table if not exists private.mutation_world (label text primary key, id uuid not null)"
    )
    conn.execute("delete from private.mutation_world")
    with conn.cursor() as cur:
        cur.executemany(
            "insert into private.mutation_world (label, id) values (%s, %s)", [(k, v) for k, v in ids.items()]
        )
    return w


def load_world(conn: psycopg.Connection) -> FixedWorld:
    return FixedWorld(dict(conn.execute("select label, id from private.mutation_world").fetchall()))


def claims_for(w: FixedWorld, user: str | None, aal: str | None) -> dict[str, object] | None:
    if user is None:
        return None
    return {
        "sub": str(w[user]),
        "role": "authenticated",
        "aal": aal,
        "is_anonymous": False,
        "session_id": str(uuid.uuid5(w[user], "s")),
        "email": f"{user}@example.be",
    }


@dataclass(frozen=True)
class Outcome:
    rows: int | None  # rows returned/affected; None on error
    code: str | None  # SQLSTATE on error
    message: str = ""

    @property
    def denied(self) -> bool:
        return self.rows == 0 or self.code in DENIED_CODES

    def __str__(self) -> str:
        return f"{self.rows} row(s)" if self.code is None else f"error {self.code} ({self.message})"


def run_as(
    conn: psycopg.Connection,
    claims: dict[str, object] | None,
    query: str,
    params: tuple = (),
    *,
    storage_api: bool = False,
) -> tuple[Outcome, list[tuple]]:
    """One rolled-back PostgREST-style request; `storage_api`: as Supabase Storage's API makes it, with the
    flag its SQL-delete guard wants (db/compat/supabase.sql)."""
    role = "anon" if claims is None else "authenticated"
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)", (json.dumps(claims or {"role": role}),)
            )
            if storage_api:
                conn.execute("select set_config('storage.allow_delete_query', 'true', true)")
            cur = conn.execute(query, params)
            rows = cur.fetchall() if cur.description else []
            count = len(rows) if cur.description else cur.rowcount
            return Outcome(count, None), rows
    except psycopg.Error as exc:
        return Outcome(None, exc.sqlstate, (exc.diag.message_primary or str(exc)).strip()), []


# --- the model's state ------------------------------------------------------------------------------------

# Owner reads naming each row's organization (second column) where it has one: the tenants of the leak report
# (db/rls/report.py killer_tenants).
OWNER_ROWS = {
    "public.organizations": "select id from public.organizations",
    "public.profiles": "select id, organization_id, role from public.profiles",
    "public.agent_assignments": "select id, agent_id from public.agent_assignments",
    "public.tickets": "select id, organization_id, requester_id from public.tickets",
    "public.ticket_messages": "select m.id, t.organization_id, t.requester_id, m.internal from public.ticket_messages"
    " as m join public.tickets as t on t.id = m.ticket_id",
    "public.attachments": "select a.id, t.organization_id, t.requester_id, a.internal from public.attachments as a"
    " join public.tickets as t on t.id = a.ticket_id",
    "storage.objects": "select o.id, t.organization_id, t.requester_id, a.internal from storage.objects as o"
    " left join public.attachments as a on a.storage_path = o.name and o.bucket_id = 'attachments'"
    " left join public.tickets as t on t.id = a.ticket_id",
    "public.audit_log": "select id, actor_id from public.audit_log",
    "public.dsr_requests": "select id, subject_id from public.dsr_requests",
    "private.invitations": "select id, organization_id from private.invitations",
    "public.business_calendars": "select id from public.business_calendars",
    "public.business_hours": "select id from public.business_hours",
    "public.holidays": "select id from public.holidays",
    "public.sla_plans": "select id from public.sla_plans",
    "public.sla_policies": "select id from public.sla_policies",
}


def model_world(conn: psycopg.Connection, w: FixedWorld) -> model.World:
    """The fixed world as db/rls/model.py's state, read as the owner: every expectation of the checks is the
    model's answer about this state, never a rule written here. Users carry no `aal`: it belongs to the
    identity (`identity()`)."""
    world = model.World()
    world.orgs = [
        model.Org(i, w.label(i), shared)
        for i, shared in conn.execute("select id, shared_tickets from public.organizations")
    ]
    world.users = [
        model.User(i, w.label(i), role, org, None, email or "", deactivated, erased, anonymous)
        for i, email, anonymous, role, org, deactivated, erased in conn.execute(
            "select u.id, u.email, u.is_anonymous, p.role, p.organization_id, p.deactivated_at is not null,"
            " p.erased_at is not null from auth.users as u left join public.profiles as p on p.id = u.id"
        )
    ]
    world.assignments = [
        model.Assignment(i, w.label(i), agent, org)
        for i, agent, org in conn.execute(
            "select id, agent_id, organization_id from public.agent_assignments"
        )
    ]
    world.tickets = [
        model.Ticket(i, w.label(i), *rest)
        for i, *rest in conn.execute(
            "select id, organization_id, requester_id, assignee_id, status, priority from public.tickets"
        )
    ]
    world.messages = [
        model.Message(i, w.label(i), *rest)
        for i, *rest in conn.execute("select id, ticket_id, author_id, internal from public.ticket_messages")
    ]
    world.attachments = [
        model.Attachment(i, w.label(i), *rest)
        for i, *rest in conn.execute(
            "select a.id, a.ticket_id, a.organization_id, a.message_id, a.uploaded_by, a.internal,"
            " exists (select from storage.objects as o where o.bucket_id = %s and o.name = a.storage_path)"
            " from public.attachments as a",
            (model.ATTACHMENTS_BUCKET,),
        )
    ]
    world.objects = [
        model.StoredObject(i, w.label(i), bucket, name)
        for i, bucket, name in conn.execute("select id, bucket_id, name from storage.objects")
    ]
    world.audit = [
        model.AuditRow(i, w.label(i), actor)
        for i, actor in conn.execute("select id, actor_id from public.audit_log")
    ]
    world.dsrs = [
        model.DsrRequest(i, w.label(i), subject, handler)
        for i, subject, handler in conn.execute("select id, subject_id, handled_by from public.dsr_requests")
    ]
    world.invitations = [
        model.Invitation(i, w.label(i), org, role, email)
        for i, org, role, email in conn.execute(
            "select id, organization_id, role, email from private.invitations"
        )
    ]
    world.storage_deletions = [
        model.QueuedDeletion(f"{bucket}/{name}", bucket, name)
        for bucket, name in conn.execute("select bucket_id, name from private.storage_deletions")
    ]
    world.buckets = tuple(b for (b,) in conn.execute("select id from storage.buckets order by id"))
    # The reference rows, with what model.may_delete needs to know: the calendar a plan uses, and whether an
    # organization uses the plan (foreign keys without cascade).
    for table in model.SLA_TABLES:
        query = sql.SQL("select to_jsonb(r) from {} as r").format(sql.SQL(table))
        for (values,) in conn.execute(query):
            row_id = uuid.UUID(values["id"])
            if table == "public.sla_plans":
                values["calendar_id"] = uuid.UUID(values["calendar_id"])
                values["in_use"] = _one(
                    conn, "select exists (select from public.organizations where sla_plan_id = %s)", (row_id,)
                )
            world.reference.append(model.RefRow(row_id, w.label(row_id), table, values))
    return world


def identity(world: model.World, w: FixedWorld, user: str | None, aal: str | None) -> model.Identity:
    """The model's caller for one of IDENTITIES: the user of the fixed world with the token's `aal` claim."""
    if user is None:
        return model.Identity(None)
    found = world.user(w[user])
    assert found is not None, user
    return model.Identity(dataclasses.replace(found, aal=aal))


# --- reads ----------------------------------------------------------------------------------------------

# Every relation the model has rules for (README §3).
READ_TABLES = model.MODELLED_TABLES


def check_reads(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    violations = []
    world = model_world(conn, w)
    for name, user, aal in IDENTITIES:
        ident = identity(world, w, user, aal)
        claims = claims_for(w, user, aal)
        for table in READ_TABLES:
            want = model.visible(world, ident, table)
            outcome, got_rows = run_as(conn, claims, f"select id from {table}")  # noqa: S608 (fixed names)
            if outcome.code is not None:
                if want or outcome.code not in DENIED_CODES:
                    violations.append(f"reads: {name} select {table}: {outcome}")
                continue
            got = {str(r[0]) for r in got_rows}
            if got != want:
                extra = sorted(w.label(i) for i in got - want)
                missing = sorted(w.label(i) for i in want - got)
                violations.append(f"reads: {name} select {table}: extra {extra}, missing {missing}")
    return violations


# --- writes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value of the fixed world named by its label: the row's id, or (`path`) an attachment's storage path."""

    label: str
    path: bool = False


@dataclass(frozen=True)
class Attempt:
    """One statement of the catalogue: `who` (a name of IDENTITIES) runs `command` on `table`. What must
    happen is the model's answer (`expected()`), never written here."""

    who: str
    command: str  # insert, update, delete, or select (a read of `values`' columns: column privileges)
    table: str
    values: tuple[tuple[str, Any], ...] = ()  # insert: the row; update: the changes; select: the columns
    targets: tuple[str, ...] | None = None  # labels of the rows an update/delete aims at; None: no WHERE


def insert(who: str, table: str, **row: Any) -> Attempt:
    return Attempt(who, "insert", table, tuple(row.items()))


def update(who: str, table: str, target: str | None, **changes: Any) -> Attempt:
    return Attempt(who, "update", table, tuple(changes.items()), None if target is None else (target,))


def delete(who: str, table: str, *targets: str) -> Attempt:
    return Attempt(who, "delete", table, (), targets or None)


def open_ticket(who: str, org: str, requester: str, **extra: Any) -> Attempt:
    """A ticket INSERT into organization `org` for `requester` (labels)."""
    return insert(
        who, "public.tickets", organization_id=Ref(org), requester_id=Ref(requester), **_TICKET, **extra
    )


def select(who: str, table: str, *columns: str) -> Attempt:
    return Attempt(who, "select", table, tuple((c, None) for c in columns))


NEW_ORG_NUMBER = make.enterprise_number(0)  # no world uses the test block's first number
# The columns of a new ticket and a new attachment that no rule looks at.
_TICKET = {"subject": "s", "description": "d"}
_FILE = {"file_name": "a.txt", "content_type": "text/plain", "size_bytes": 1, "sha256": "b" * 64}
# Allowed and forbidden writes around each rule's edges (other tenant, other author, internal notes by clients,
# staff below aal2, strangers, unconditional UPDATE/DELETE that must reach exactly the caller's rows).
WRITES: tuple[Attempt, ...] = (
    # organizations
    insert("admin", "public.organizations", name="New", enterprise_number=NEW_ORG_NUMBER, contract_start="2026-01-01", sla_plan_id=Ref("plan")),
    insert("admin@aal1", "public.organizations", name="New", enterprise_number=NEW_ORG_NUMBER, contract_start="2026-01-01", sla_plan_id=Ref("plan")),
    insert("cadmin_a", "public.organizations", name="New", enterprise_number=NEW_ORG_NUMBER, contract_start="2026-01-01", sla_plan_id=Ref("plan")),
    update("admin", "public.organizations", "org_a", name="Renamed"),
    update("admin@aal1", "public.organizations", "org_a", name="Renamed"),
    update("cadmin_a", "public.organizations", "org_a", name="Renamed"),
    update("cadmin_a", "public.organizations", None, shared_tickets=True),
    delete("admin", "public.organizations", "org_e"),
    delete("admin@aal1", "public.organizations", "org_e"),
    delete("cadmin_a", "public.organizations", "org_a"),
    delete("cadmin_a", "public.organizations"),
    # profiles
    insert("admin", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_b"), role="client_member", first_name="N", surname="B", email="newbie@example.be"),
    insert("admin@aal1", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_b"), role="client_member", first_name="N", surname="B", email="newbie@example.be"),
    insert("cadmin_a", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_a"), role="client_member", first_name="N", surname="B", email="newbie@example.be"),
    insert("cadmin_a", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_b"), role="client_member", first_name="N", surname="B", email="newbie@example.be"),
    insert("cadmin_a", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_a"), role="agent", first_name="N", surname="B", email="newbie@example.be"),
    insert("member_a1", "public.profiles", id=Ref("newbie"), organization_id=Ref("org_a"), role="client_member", first_name="N", surname="B", email="newbie@example.be"),
    insert("stranger", "public.profiles", id=Ref("stranger"), organization_id=Ref("org_a"), role="client_admin", first_name="N", surname="B", email="stranger@example.be"),
    update("member_a1", "public.profiles", "member_a1", first_name="Me"),
    update("member_a1", "public.profiles", "member_a2", first_name="You"),
    update("member_a1", "public.profiles", "member_b1", first_name="You"),
    update("agent_a", "public.profiles", "agent_a", first_name="Me"),
    update("agent_a", "public.profiles", "member_a1", first_name="You"),
    update("cadmin_a", "public.profiles", "member_a2", first_name="Staff"),
    update("cadmin_a", "public.profiles", "member_b1", first_name="Staff"),
    update("cadmin_a", "public.profiles", "member_a2", role="agent"),
    update("admin", "public.profiles", "member_b1", first_name="Any"),
    update("admin@aal1", "public.profiles", "member_b1", first_name="Any"),
    update("member_a3_off", "public.profiles", "member_a3_off", first_name="Back"),
    update("member_a3_off", "public.profiles", None, first_name="Back"),
    update("member_a1", "public.profiles", "member_a1", organization_id=Ref("org_b")),
    update("cadmin_a", "public.profiles", "member_a2", organization_id=Ref("org_b")),
    update("cadmin_a", "public.profiles", "cadmin_a", role="admin"),
    update("agent_a", "public.profiles", "admin", first_name="You"),
    delete("cadmin_a", "public.profiles"),
    delete("admin", "public.profiles", "member_b2"),
    # erased profiles and the placeholder (README §8b): immutable for everyone, admins included; an update of
    # a whole organization (or of everything) reaches exactly the rows that are not erased
    update("cadmin_a", "public.profiles", "placeholder_a", first_name="Revealed"),
    update("cadmin_a", "public.profiles", "placeholder_a", deactivated_at=None),
    update("cadmin_a", "public.profiles", "erased_a", role="client_admin"),
    update("admin", "public.profiles", "erased_a", first_name="Revealed"),
    update("admin", "public.profiles", "placeholder_a", deactivated_at=None, role="admin", organization_id=None),
    delete("admin", "public.profiles", "placeholder_a"),
    update("cadmin_a", "public.profiles", None, position="Staff"),
    update("member_a1", "public.profiles", None, first_name="Me"),
    update("admin", "public.profiles", None, position="Staff"),
    # agent_assignments
    insert("admin", "public.agent_assignments", agent_id=Ref("agent_a"), organization_id=Ref("org_b")),
    insert("admin@aal1", "public.agent_assignments", agent_id=Ref("agent_a"), organization_id=Ref("org_b")),
    insert("agent_a", "public.agent_assignments", agent_id=Ref("agent_a"), organization_id=Ref("org_b")),
    insert("cadmin_a", "public.agent_assignments", agent_id=Ref("agent_a"), organization_id=Ref("org_b")),
    delete("admin", "public.agent_assignments", "asg_agent_b"),
    delete("admin@aal1", "public.agent_assignments", "asg_agent_b"),
    delete("agent_a", "public.agent_assignments"),
    delete("cadmin_a", "public.agent_assignments"),
    # tickets
    open_ticket("member_a1", "org_a", "member_a1"),
    open_ticket("member_a1", "org_b", "member_a1"),
    open_ticket("member_a1", "org_a", "member_a2"),
    open_ticket("member_a1", "org_a", "member_a1", status="open"),
    open_ticket("member_a1", "org_a", "member_a1", assignee_id=Ref("agent_a")),
    open_ticket("cadmin_a", "org_a", "cadmin_a"),
    # An agent opens a ticket on a client's behalf (a phone call): assigned organization, an active person
    # of it, new, unassigned or assigned to self.
    open_ticket("agent_a", "org_a", "member_a1"),
    open_ticket("agent_a", "org_a", "cadmin_a", assignee_id=Ref("agent_a")),
    open_ticket("agent_a", "org_b", "member_b1"),
    open_ticket("agent_a", "org_a", "member_a3_off"),
    open_ticket("agent_a", "org_a", "member_a1", status="open"),
    open_ticket("agent_a", "org_a", "member_a1", assignee_id=Ref("admin")),
    open_ticket("agent_a", "org_a", "agent_a"),
    open_ticket("agent_b", "org_e", "member_b1"),
    open_ticket("agent_b", "org_b", "member_b1"),
    open_ticket("agent_a@aal1", "org_a", "member_a1"),
    open_ticket("agent_off", "org_b", "member_b1"),
    open_ticket("cadmin_a", "org_a", "member_a1"),
    open_ticket("admin", "org_b", "member_b1"),
    open_ticket("admin@aal1", "org_b", "member_b1"),
    open_ticket("stranger", "org_a", "stranger"),
    update("member_a1", "public.tickets", "t_a1", status="resolved"),
    update("member_a1", "public.tickets", "t_a2", status="resolved"),
    update("member_a1", "public.tickets", "t_b1", status="resolved"),
    update("member_a1", "public.tickets", None, status="resolved"),
    update("member_b1", "public.tickets", "t_b2", status="resolved"),
    update("cadmin_a", "public.tickets", "t_a2", status="resolved"),
    update("cadmin_a", "public.tickets", None, status="resolved"),
    update("agent_a", "public.tickets", "t_a1", priority="high"),
    update("agent_a", "public.tickets", "t_b1", priority="high"),
    update("agent_a", "public.tickets", None, priority="high"),
    update("agent_a@aal1", "public.tickets", "t_a1", priority="high"),
    update("admin", "public.tickets", "t_b1", priority="high"),
    delete("member_a1", "public.tickets", "t_a1"),
    delete("admin", "public.tickets", "t_a1"),
    # ticket_messages
    insert("member_a1", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("member_a1"), body="x"),
    insert("member_a1", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("member_a2"), body="x"),
    insert("member_a1", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("member_a1"), body="x", internal=True),
    insert("member_a1", "public.ticket_messages", ticket_id=Ref("t_a2"), author_id=Ref("member_a1"), body="x"),
    insert("member_a1", "public.ticket_messages", ticket_id=Ref("t_b1"), author_id=Ref("member_a1"), body="x"),
    insert("agent_a", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("agent_a"), body="x", internal=True),
    insert("agent_a", "public.ticket_messages", ticket_id=Ref("t_b1"), author_id=Ref("agent_a"), body="x", internal=True),
    insert("agent_a@aal1", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("agent_a"), body="x"),
    insert("admin", "public.ticket_messages", ticket_id=Ref("t_b1"), author_id=Ref("admin"), body="x", internal=True),
    insert("stranger", "public.ticket_messages", ticket_id=Ref("t_a1"), author_id=Ref("stranger"), body="x"),
    delete("admin", "public.ticket_messages", "m_a1"),
    update("member_a1", "public.ticket_messages", "m_a1", body="edited"),
    # attachments
    insert("member_a1", "public.attachments", ticket_id=Ref("t_a1"), organization_id=Ref("org_a"), uploaded_by=Ref("member_a1"), **_FILE),
    insert("member_a1", "public.attachments", ticket_id=Ref("t_a1"), organization_id=Ref("org_a"), uploaded_by=Ref("member_a2"), **_FILE),
    insert("member_a1", "public.attachments", ticket_id=Ref("t_a1"), organization_id=Ref("org_a"), uploaded_by=Ref("member_a1"), internal=True, **_FILE),
    insert("member_a1", "public.attachments", ticket_id=Ref("t_a2"), organization_id=Ref("org_a"), uploaded_by=Ref("member_a1"), **_FILE),
    insert("agent_a", "public.attachments", ticket_id=Ref("t_a1"), organization_id=Ref("org_a"), uploaded_by=Ref("agent_a"), internal=True, **_FILE),
    insert("agent_a", "public.attachments", ticket_id=Ref("t_b1"), organization_id=Ref("org_b"), uploaded_by=Ref("agent_a"), **_FILE),
    insert("agent_a@aal1", "public.attachments", ticket_id=Ref("t_a1"), organization_id=Ref("org_a"), uploaded_by=Ref("agent_a"), **_FILE),
    delete("admin", "public.attachments", "f_a1"),
    # storage.objects
    insert("member_a1", "storage.objects", bucket_id="attachments", name=Ref("f_a1_pending", path=True)),
    insert("member_a1", "storage.objects", bucket_id="attachments", name=Ref("f_a2_pending", path=True)),
    insert("member_a1", "storage.objects", bucket_id="other", name=Ref("f_a1_pending", path=True)),
    insert("member_a1", "storage.objects", bucket_id="attachments", name=Ref("f_a1i_pending", path=True)),
    insert("member_b1", "storage.objects", bucket_id="attachments", name=Ref("f_a1_pending", path=True)),
    insert("agent_a", "storage.objects", bucket_id="attachments", name=Ref("f_a1i_pending", path=True)),
    insert("agent_a@aal1", "storage.objects", bucket_id="attachments", name=Ref("f_a1i_pending", path=True)),
    delete("member_a1", "storage.objects"),
    update("member_a1", "storage.objects", None, name="moved"),
    # audit_log
    delete("admin", "public.audit_log"),
    insert("member_a1", "public.audit_log", actor_id=Ref("member_b1"), action="read", object_table="x"),
    # dsr_requests
    insert("admin", "public.dsr_requests", subject_id=Ref("member_b2"), subject_email="member_b2@example.be", type="access"),
    insert("admin@aal1", "public.dsr_requests", subject_id=Ref("member_b2"), subject_email="member_b2@example.be", type="access"),
    insert("member_a1", "public.dsr_requests", subject_id=Ref("member_a1"), subject_email="member_a1@example.be", type="access"),
    update("admin", "public.dsr_requests", "dsr_b1", notes="seen"),
    update("admin@aal1", "public.dsr_requests", "dsr_b1", notes="seen"),
    update("member_a1", "public.dsr_requests", "dsr_a1", notes="mine"),
    update("member_a1", "public.dsr_requests", None, notes="mine"),
    delete("admin", "public.dsr_requests", "dsr_b1"),
)  # fmt: skip
# SLA reference tables: each write by an admin, an admin below aal2, a client admin and an agent, and an
# unconditional delete by a member.
_SLA_WRITES = (
    insert("", "public.business_calendars", name="X"),
    update("", "public.business_calendars", "cal", name="Y"),
    delete("", "public.business_calendars", "cal_spare"),
    insert("", "public.business_hours", calendar_id=Ref("cal"), day_of_week=2, opens_at="09:00", closes_at="17:00"),
    update("", "public.business_hours", "hours", opens_at="08:00"),
    delete("", "public.business_hours", "hours"),
    insert("", "public.holidays", calendar_id=Ref("cal"), day="2026-01-01", name="NY"),
    update("", "public.holidays", "holiday", name="Xmas"),
    delete("", "public.holidays", "holiday"),
    insert("", "public.sla_plans", code="gold", name="Gold", calendar_id=Ref("cal")),
    update("", "public.sla_plans", "plan", name="Standard"),
    delete("", "public.sla_plans", "plan_spare"),
    insert("", "public.sla_policies", plan_id=Ref("plan"), priority="high", first_response_minutes=30,
           next_response_minutes=60, resolution_minutes=240),
    update("", "public.sla_policies", "slapol", resolution_minutes=600),
    delete("", "public.sla_policies", "slapol"),
)  # fmt: skip
SLA_WRITES = tuple(
    dataclasses.replace(attempt, who=who)
    for attempt in _SLA_WRITES
    for who in ("admin", "admin@aal1", "cadmin_a", "agent_a")
) + tuple(delete("member_a1", table) for table in model.SLA_TABLES)

# private.invitations (README §3, §4): admins invite anyone, client admins their own organization with a client
# role; nobody reads the nonce hash back or sets the expiry; nobody edits an invitation.
_INVITE = {"email": "fresh@example.be", "first_name": "F", "surname": "Resh", "nonce_hash": "f" * 64}
INVITATION_WRITES: tuple[Attempt, ...] = (
    insert("admin", "private.invitations", organization_id=None, role="admin", **_INVITE),
    insert("admin@aal1", "private.invitations", organization_id=None, role="admin", **_INVITE),
    insert("cadmin_a", "private.invitations", organization_id=Ref("org_a"), role="client_admin", **_INVITE),
    insert("cadmin_a", "private.invitations", organization_id=Ref("org_b"), role="client_member", **_INVITE),
    insert("cadmin_a", "private.invitations", organization_id=Ref("org_a"), role="agent", **_INVITE),
    insert("cadmin_a", "private.invitations", organization_id=None, role="agent", **_INVITE),
    insert("member_a1", "private.invitations", organization_id=Ref("org_a"), role="client_member", **_INVITE),
    insert("agent_a", "private.invitations", organization_id=Ref("org_a"), role="client_member", **_INVITE),
    insert("stranger", "private.invitations", organization_id=None, role="admin", **_INVITE),
    insert("admin", "private.invitations", role="admin", **_INVITE, expires_at="infinity"),
    select("admin", "private.invitations", "nonce_hash"),
    update("admin", "private.invitations", "inv_b", role="admin"),
    delete("admin", "private.invitations", "inv_b"),
    delete("admin@aal1", "private.invitations"),
    delete("cadmin_a", "private.invitations", "inv_a"),
    delete("cadmin_a", "private.invitations", "inv_b", "inv_staff"),
    delete("cadmin_a", "private.invitations"),
    delete("member_a1", "private.invitations"),
    delete("agent_a", "private.invitations"),
)


def _resolve(value: Any, world: model.World, w: FixedWorld) -> Any:
    if not isinstance(value, Ref):
        return value
    if value.path:
        found = next(a for a in world.attachments if a.id == w[value.label])
        return found.storage_path
    return w[value.label]


def statement(attempt: Attempt, world: model.World, w: FixedWorld) -> str:
    """The SQL of `attempt`, without RETURNING (return=minimal: only the write policies decide)."""
    values = {column: _resolve(v, world, w) for column, v in attempt.values}
    where = ""
    if attempt.targets is not None:
        where = f" where id in ({', '.join(lit(w[t]) for t in attempt.targets)})"
    table = attempt.table
    match attempt.command:
        case "insert":
            return f"insert into {table} ({', '.join(values)}) values ({', '.join(lit(v) for v in values.values())})"  # noqa: S608
        case "update":
            sets = ", ".join(f"{column} = {lit(v)}" for column, v in values.items())
            return f"update {table} set {sets}{where}"  # noqa: S608
        case "delete":
            return f"delete from {table}{where}"  # noqa: S608
        case "select":
            return f"select {', '.join(values)} from {table}"  # noqa: S608
    raise ValueError(f"unknown command {attempt.command!r} in {attempt}")


def expected(attempt: Attempt, world: model.World, ident: model.Identity, w: FixedWorld) -> model.Verdict:
    """The model's verdict on the whole statement: for a write reaching several rows, the rows it allows (the
    others are refused silently by RLS), or the data rule one of them breaks."""
    values = {column: _resolve(v, world, w) for column, v in attempt.values}
    table = attempt.table
    if attempt.command == "insert":
        return model.may_insert(world, ident, table, values)
    if attempt.command == "select":
        hidden = [c for c in values if not model.column_readable(table, c)]
        if hidden:
            return model.Verdict.deny(f"§4: {hidden} of {table} are never read back")
        return model.Verdict.ok(rows=len(model.visible(world, ident, table)))
    targets = [w[t] for t in attempt.targets] if attempt.targets is not None else world.rows(table)
    if attempt.command == "update":
        verdicts = [model.may_update(world, ident, table, t, values) for t in targets]
    else:
        verdicts = [model.may_delete(world, ident, table, t) for t in targets]
    if failing := [v for v in verdicts if v.allowed and v.errors]:
        return model.Verdict.fails(*sorted(set().union(*(v.errors for v in failing))), why=failing[0].why)
    allowed = [v for v in verdicts if v.allowed]
    if not allowed:
        return model.Verdict.deny(verdicts[0].why if verdicts else f"no row of {table}")
    return model.Verdict.ok(rows=sum(v.rows for v in allowed), why=allowed[0].why)


def _agrees(verdict: model.Verdict, outcome: Outcome) -> bool:
    if not verdict.allowed:
        return outcome.denied
    if verdict.errors:
        return outcome.code in verdict.errors
    return outcome.code is None and outcome.rows == verdict.rows


def _says(verdict: model.Verdict) -> str:
    if not verdict.allowed:
        said = "denied"
    elif verdict.errors:
        said = f"fails with {' or '.join(sorted(verdict.errors))}"
    else:
        said = f"allowed on {verdict.rows} row(s)"
    return f"{said} ({verdict.why})" if verdict.why else said


def check_writes(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    violations = []
    world = model_world(conn, w)
    identities = {name: (user, aal) for name, user, aal in IDENTITIES}
    for attempt in WRITES + SLA_WRITES + INVITATION_WRITES:
        user, aal = identities[attempt.who]
        verdict = expected(attempt, world, identity(world, w, user, aal), w)
        query = statement(attempt, world, w)
        outcome, _ = run_as(conn, claims_for(w, user, aal), query)
        if not _agrees(verdict, outcome):
            violations.append(
                f"writes: {attempt.who} {_short(query)} -> {outcome}; db/rls/model.py says {_says(verdict)}"
            )
    return violations


def _short(text: str) -> str:
    return text if len(text) < 140 else text[:137] + "..."


# --- columns (README §4) --------------------------------------------------------------------------------

# Every table with column grants in README §4 (db/rls/model.py INSERT_COLUMNS / UPDATE_COLUMNS).
GRANTED_TABLES = tuple(model.INSERT_COLUMNS)


def check_columns(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    """Column privileges as the admin (aal2) would use them: the statements touch no row."""
    violations = []
    admin = claims_for(w, "admin", "aal2")
    for table in GRANTED_TABLES:
        commands = {
            "insert": model.INSERT_COLUMNS[table],
            "update": model.UPDATE_COLUMNS.get(table, frozenset()),
        }
        schema, name = table.split(".")
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and is_generated = 'NEVER' order by ordinal_position",
                (schema, name),
            )
        ]
        for column in columns:
            col = sql.Identifier(column)
            rel = sql.SQL(table)
            for command, allowed in commands.items():
                if command == "insert":
                    # `select null`, not the column itself: a column may be writable but not readable
                    # (private.invitations.nonce_hash).
                    statement = sql.SQL("insert into {} ({}) select null where false").format(rel, col)
                else:
                    statement = sql.SQL("update {} set {} = {} where false").format(rel, col, col)
                outcome, _ = run_as(conn, admin, statement.as_string(conn))
                granted = outcome.code is None
                if granted != (column in allowed):
                    violations.append(
                        f"columns: {command.upper()} ({column}) on {table} is "
                        f"{'granted' if granted else 'refused'} ({outcome}); README §4 says "
                        f"{'granted' if column in allowed else 'refused'}"
                    )
    return violations


# --- structure (README §5) ------------------------------------------------------------------------------


def check_structure(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    violations = []
    tables = list(GRANTED_TABLES)
    for table in tables:
        row = conn.execute(
            "select relrowsecurity, relforcerowsecurity from pg_class where oid = %s::regclass", (table,)
        ).fetchone()
        assert row is not None, table
        if not row[0]:
            violations.append(f"structure: {table} has row level security disabled")
        if not row[1]:
            violations.append(f"structure: {table} does not FORCE row level security (the owner bypasses it)")
    for table in [*tables, "storage.objects"]:
        schema, name = table.split(".")
        policies = conn.execute(
            "select policyname, permissive, roles::text[], cmd from pg_policies where schemaname = %s and tablename = %s",
            (schema, name),
        ).fetchall()
        for policy, _permissive, roles, _cmd in policies:
            if roles != ["authenticated"]:
                violations.append(
                    f"structure: policy {policy} on {table} applies to {roles}, not authenticated only"
                )
        prefix = name if schema in ("public", "private") else f"{schema}_{name}"
        mfa = [p for p in policies if p[0] == f"{prefix}_staff_need_mfa"]
        if not mfa or mfa[0][1] != "RESTRICTIVE" or mfa[0][3] != "ALL":
            violations.append(f"structure: {table} lacks its restrictive staff MFA policy for all commands")
    for (name,) in conn.execute(
        "select p.oid::regprocedure::text from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace"
        " where n.nspname = 'private' and not exists (select from unnest(coalesce(p.proconfig, '{}')) as c"
        " where c like 'search_path=%%')"
    ):
        violations.append(f"structure: function {name} has no pinned search_path")
    for (name,) in conn.execute(
        "select c.oid::regclass::text from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where c.relkind = 'v' and n.nspname in ('public', 'private')"
        " and not coalesce(c.reloptions @> '{security_invoker=true}' or c.reloptions @> '{security_invoker=on}', false)"
    ):
        violations.append(f"structure: view {name} is not security_invoker")
    return violations


# --- the storage sweeper (db/schema/0270, db/policies/storage_objects.sql) --------------------------------

SWEEPER_CLAIMS: dict[str, object] = {
    "sub": str(uuid.UUID(int=0x5EEEEE)),
    "role": "authenticated",
    "aal": "aal1",
    "is_anonymous": False,
    "app_metadata": {"nexk_system": "storage_sweeper"},
}


def check_sweeper(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    """The sweeper sees and deletes exactly the queued objects (model.storage_sweeper_objects: o_a1); nobody
    else deletes any object (model.may_delete), even with Storage's flag set as its API sets it."""
    violations = []
    world = model_world(conn, w)
    queued = model.storage_sweeper_objects(world)
    want = ", ".join(sorted(w.label(i) for i in queued))
    # With RETURNING the SELECT policies filter the rows too; a bare DELETE answers to the DELETE policy alone.
    for query in ("select id from storage.objects", "delete from storage.objects returning id"):
        outcome, rows = run_as(conn, SWEEPER_CLAIMS, query, storage_api=True)
        if outcome.code is not None or {str(r[0]) for r in rows} != queued:
            violations.append(f"sweeper: `{query}` as the storage sweeper: {outcome}, want {want} only")
    outcome, _ = run_as(conn, SWEEPER_CLAIMS, "delete from storage.objects", storage_api=True)
    if outcome.rows != len(queued):
        violations.append(
            f"sweeper: a bare delete as the storage sweeper: {outcome}, want {len(queued)} row(s) ({want})"
        )
    for name, user, aal in IDENTITIES:
        ident = identity(world, w, user, aal)
        allowed = [
            o
            for o in world.rows("storage.objects")
            if model.may_delete(world, ident, "storage.objects", o).allowed
        ]
        for query in ("delete from storage.objects returning id", "delete from storage.objects"):
            outcome, _ = run_as(conn, claims_for(w, user, aal), query, storage_api=True)
            if not (outcome.rows == len(allowed) if allowed else outcome.denied):
                violations.append(
                    f"sweeper: {name} deleted storage objects with `{query}`: {outcome};"
                    f" db/rls/model.py allows {len(allowed)} row(s)"
                )
    return violations


CHECKS: dict[str, Callable[[psycopg.Connection, FixedWorld], list[str]]] = {
    "reads": check_reads,
    "writes": check_writes,
    "columns": check_columns,
    "sweeper": check_sweeper,
    "structure": check_structure,
}
BEHAVIOURAL = ("reads", "writes", "columns", "sweeper")


def run_killers(
    dsn: str, names: tuple[str, ...] = tuple(CHECKS), stop_at_first: bool = True
) -> dict[str, list[str]]:
    """Run the named checks on the database at `dsn` (a copy holding the fixed world)."""
    results: dict[str, list[str]] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set statement_timeout = '20s'")
        w = load_world(conn)
        for name in names:
            try:
                results[name] = CHECKS[name](conn, w)
            except errors.QueryCanceled as exc:
                results[name] = [f"{name}: timed out ({exc})"]
            if stop_at_first and results[name]:
                break
    return results
