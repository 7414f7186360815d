"""Mutant killers that do not need the property-based isolation suite: a fixed world and an attack catalogue.

`build_world(conn)` writes one small, hand-made world (three organizations, every kind of identity, tickets,
messages, internal notes, attachments and their files, audit and DSR rows) as the owner. The checks then
ask the database, as PostgREST would (`set local role` + JWT claims, one rolled-back transaction each):

- `reads`: every identity (anon, stranger, deactivated client, members of a private and of a sharing
  organization, a client admin, agents at aal2 and aal1, admins at aal2 and aal1) x every table: exactly the
  rows db/policies/README.md §3 allows, computed here from the owner's read of the same rows;
- `writes`: the allowed writes succeed and the forbidden ones (other tenant, other author, internal notes by
  clients, staff below aal2, strangers, unconditional UPDATE/DELETE) are refused (zero rows or 42501);
- `columns`: README §4 column privileges: every listed column is writable by `authenticated`, every other
  column is refused with 42501 (a statement touching no row still checks privileges);
- `structure`: README §5 invariants no request can observe today (FORCE, `to authenticated`, one
  restrictive MFA policy per table, pinned helper search_path, security_invoker views). A mutant only this
  check kills is behaviourally equivalent under the API roles; the report says so.

Each check returns violations as sentences; `run_killers(dsn)` returns {check name: violations}.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import errors, sql

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
ROLE_OF = {p[0]: p[1] for p in PEOPLE}
ORG_OF = {p[0]: p[2] for p in PEOPLE}
ACTIVE = {p[0] for p in PEOPLE if p[1] and not p[4]}
# agent_b also has the empty organization: an agent of two organizations must not file a ticket of one under
# the other (README §3 tickets INSERT, agent).
ASSIGNED = {"agent_a": {"org_a"}, "agent_b": {"org_b", "org_e"}, "agent_off": {"org_b"}}
SHARED = {"org_a": False, "org_b": True, "org_e": False}


def _one(conn: psycopg.Connection, query: str, params: tuple = ()) -> uuid.UUID:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def build_world(conn: psycopg.Connection) -> FixedWorld:
    """Write the fixed world as the owner (caller commits). Returns the labels of every row."""
    w = FixedWorld()
    ids = w.ids
    ids["cal"] = _one(conn, "insert into public.business_calendars (name) values ('Brussels') returning id")
    ids["cal_spare"] = _one(
        conn, "insert into public.business_calendars (name) values ('Spare') returning id"
    )
    ids["plan"] = _one(
        conn,
        "insert into public.sla_plans (code, name, calendar_id) values ('std', 'Std', %s) returning id",
        (ids["cal"],),
    )
    ids["plan_spare"] = _one(
        conn,
        "insert into public.sla_plans (code, name, calendar_id) values ('spare', 'Spare', %s) returning id",
        (ids["cal"],),
    )
    ids["slapol"] = _one(
        conn,
        "insert into public.sla_policies"
        " (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)"
        " values (%s, 'normal', 60, 120, 480) returning id",
        (ids["plan"],),
    )
    ids["hours"] = _one(
        conn,
        "insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at)"
        " values (%s, 1, '09:00', '17:00') returning id",
        (ids["cal"],),
    )
    ids["holiday"] = _one(
        conn,
        "insert into public.holidays (calendar_id, day, name) values (%s, '2026-12-25', 'Christmas') returning id",
        (ids["cal"],),
    )
    org_sql = (
        "insert into public.organizations (name, enterprise_number, contract_start, sla_plan_id, shared_tickets)"
        " values (%s, %s, '2026-01-01', %s, %s) returning id"
    )
    ids["org_a"] = _one(conn, org_sql, ("Alpha", "0403.170.701", ids["plan"], False))
    ids["org_b"] = _one(conn, org_sql, ("Beta", "1037.508.040", ids["plan"], True))
    ids["org_e"] = _one(conn, org_sql, ("Empty", "0203.201.340", ids["plan"], False))
    for label, role, org, _aal, _off in PEOPLE:
        uid = uuid.uuid4()
        ids[label] = uid
        email = f"{label}@example.be"
        conn.execute("insert into auth.users (id, email) values (%s, %s)", (uid, email))
        if role:
            conn.execute(
                "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
                " values (%s, %s, %s, 'First', 'Last', %s)",
                (uid, ids[org] if org else None, role, email),
            )
    for agent, orgs in ASSIGNED.items():
        for org in sorted(orgs):  # the first one is `asg_<agent>`, any other `asg_<agent>_<org>`
            label = f"asg_{agent}" if f"asg_{agent}" not in ids else f"asg_{agent}_{org}"
            ids[label] = _one(
                conn,
                "insert into public.agent_assignments (agent_id, organization_id) values (%s, %s) returning id",
                (ids[agent], ids[org]),
            )
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
        ids[label] = _one(
            conn,
            "insert into public.tickets (organization_id, requester_id, subject, description)"
            " values (%s, %s, 'Printer', 'On fire') returning id",
            (ids[org], ids[requester]),
        )
    for label, ticket, author, internal in (
        ("m_a1", "t_a1", "member_a1", False),
        ("n_a1", "t_a1", "agent_a", True),
        ("m_a2", "t_a2", "member_a2", False),
        ("m_b1", "t_b1", "member_b1", False),
        ("n_b1", "t_b1", "agent_b", True),
    ):
        ids[label] = _one(
            conn,
            "insert into public.ticket_messages (ticket_id, author_id, body, internal) values (%s, %s, 'Hi', %s)"
            " returning id",
            (ids[ticket], ids[author], internal),
        )
    for label, ticket, org, by, internal, with_object in (
        ("f_a1", "t_a1", "org_a", "member_a1", False, True),
        ("f_a1i", "t_a1", "org_a", "agent_a", True, True),
        ("f_a2", "t_a2", "org_a", "member_a2", False, True),
        ("f_b1", "t_b1", "org_b", "member_b1", False, True),
        ("f_a1_pending", "t_a1", "org_a", "member_a1", False, False),  # uploaded row, file not yet sent
        ("f_a2_pending", "t_a2", "org_a", "member_a2", False, False),
        ("f_a1i_pending", "t_a1", "org_a", "agent_a", True, False),
    ):
        ids[label] = _one(
            conn,
            "insert into public.attachments (ticket_id, organization_id, uploaded_by, internal, file_name,"
            " content_type, size_bytes, sha256) values (%s, %s, %s, %s, 'log.txt', 'text/plain', 10,"
            " repeat('a', 64)) returning id",
            (ids[ticket], ids[org], ids[by], internal),
        )
        if with_object:
            ids[f"o_{label[2:]}"] = _one(
                conn,
                "insert into storage.objects (bucket_id, name) select 'attachments', a.storage_path"
                " from public.attachments as a where a.id = %s returning id",
                (ids[label],),
            )
    conn.execute("insert into storage.buckets (id, name) values ('other', 'other') on conflict do nothing")
    ids["o_other"] = _one(
        conn,
        "insert into storage.objects (bucket_id, name) select 'other', a.storage_path from public.attachments as a"
        " where a.id = %s returning id",
        (ids["f_a1"],),
    )
    for label, actor in (
        ("au_a1", "member_a1"),
        ("au_b1", "member_b1"),
        ("au_agent_a", "agent_a"),
        ("au_a3_off", "member_a3_off"),
    ):
        ids[label] = _one(
            conn,
            "insert into public.audit_log (actor_id, action, object_table) values (%s, 'read', 'tickets') returning id",
            (ids[actor],),
        )
    for label, subject in (("dsr_a1", "member_a1"), ("dsr_b1", "member_b1"), ("dsr_a3_off", "member_a3_off")):
        ids[label] = _one(
            conn,
            "insert into public.dsr_requests (subject_id, subject_email, type) values (%s, %s, 'access') returning id",
            (ids[subject], f"{subject}@example.be"),
        )
    # One attachment object queued for the storage sweeper (db/schema/0270), as an erasure would queue it.
    conn.execute(
        "insert into private.storage_deletions (bucket_id, name, reason)"
        " select o.bucket_id, o.name, 'erasure' from storage.objects as o where o.id = %s",
        (ids["o_a1"],),
    )
    # Pending invitations (db/schema/0280): one per client organization, one for NexK staff.
    for label, org, role in (("inv_a", "org_a", "client_member"), ("inv_b", "org_b", "client_admin"),
                             ("inv_staff", None, "agent")):  # fmt: skip
        ids[label] = _one(
            conn,
            "insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)"
            " values (%s, %s, %s, 'Invited', 'Person', encode(sha256(convert_to(%s, 'UTF8')), 'hex')) returning id",
            (f"{label}@example.be", ids[org] if org else None, role, label),
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


# --- reads ----------------------------------------------------------------------------------------------

# Owner reads giving each row's attributes: table -> query returning (id, attrs...).
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


@dataclass(frozen=True)
class Who:
    name: str
    user: str | None
    role: str | None  # effective role (README §1): None for anon, strangers, inactive, staff below aal2
    org: uuid.UUID | None
    me: uuid.UUID | None
    assigned: frozenset[uuid.UUID]


def who(w: FixedWorld, name: str, user: str | None, aal: str | None) -> Who:
    role = ROLE_OF.get(user) if user in ACTIVE else None
    if role in ("agent", "admin") and aal != "aal2":
        role = None
    org = w[ORG_OF[user]] if role in ("client_member", "client_admin") else None
    assigned = frozenset(w[o] for o in ASSIGNED.get(user, ())) if role == "agent" else frozenset()
    return Who(name, user, role, org, w[user] if user else None, assigned)


def _ticket_visible(w: FixedWorld, c: Who, org: uuid.UUID | None, requester: uuid.UUID | None) -> bool:
    if c.role == "admin":
        return True
    if c.role == "agent":
        return org in c.assigned
    if c.role == "client_admin":
        return org == c.org
    if c.role == "client_member":
        shared = any(SHARED[label] for label in SHARED if w[label] == org)
        return org == c.org and (requester == c.me or shared)
    return False


def expected_visible(w: FixedWorld, c: Who, table: str, row: tuple) -> bool:
    """README §3 SELECT, for one owner-read row of `table`."""
    if c.role is None:
        return False
    admin = c.role == "admin"
    match table:
        case "public.organizations":
            return admin or row[0] == c.org or row[0] in c.assigned
        case "public.profiles":
            # A client member reads only their own row (data minimisation); a client admin their organization.
            _, org, role = row
            return (
                admin
                or row[0] == c.me
                or (c.role == "client_admin" and org == c.org)
                or (c.role == "agent" and (role in ("agent", "admin") or org in c.assigned))
            )
        case "public.agent_assignments":
            return admin or (c.role == "agent" and row[1] == c.me)
        case "public.tickets":
            return _ticket_visible(w, c, row[1], row[2])
        case "public.ticket_messages" | "public.attachments" | "storage.objects":
            if row[1] is None:  # an object outside the attachments bucket or without its row
                return False
            return _ticket_visible(w, c, row[1], row[2]) and (not row[3] or c.role in ("agent", "admin"))
        case "public.audit_log":
            return admin or row[1] == c.me
        case "public.dsr_requests":
            return admin or row[1] == c.me
        case "private.invitations":
            return admin or (c.role == "client_admin" and row[1] == c.org)
        case _:
            return True  # SLA reference tables: every active profile


def check_reads(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    violations = []
    owner_rows = {t: conn.execute(q).fetchall() for t, q in OWNER_ROWS.items()}
    for name, user, aal in IDENTITIES:
        c = who(w, name, user, aal)
        claims = claims_for(w, user, aal)
        for table, rows in owner_rows.items():
            want = {str(r[0]) for r in rows if expected_visible(w, c, table, r)}
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

ALLOW, DENY = "allowed", "denied"
# (identity, expectation, sql with {label} placeholders for quoted ids); an expectation "N" (digits) means
# "succeeds and touches exactly N rows" (an unconditional write reaches exactly the caller's rows).
WRITES: tuple[tuple[str, str, str], ...] = (
    # organizations
    (
        "admin",
        ALLOW,
        "insert into public.organizations (name, enterprise_number, contract_start, sla_plan_id)"
        " values ('New', '0417.497.106', '2026-01-01', {plan})",
    ),
    (
        "admin@aal1",
        DENY,
        "insert into public.organizations (name, enterprise_number, contract_start, sla_plan_id)"
        " values ('New', '0417.497.106', '2026-01-01', {plan})",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.organizations (name, enterprise_number, contract_start, sla_plan_id)"
        " values ('New', '0417.497.106', '2026-01-01', {plan})",
    ),
    ("admin", ALLOW, "update public.organizations set name = 'Renamed' where id = {org_a}"),
    ("admin@aal1", DENY, "update public.organizations set name = 'Renamed' where id = {org_a}"),
    ("cadmin_a", DENY, "update public.organizations set name = 'Renamed' where id = {org_a}"),
    ("cadmin_a", DENY, "update public.organizations set shared_tickets = true"),
    ("admin", ALLOW, "delete from public.organizations where id = {org_e}"),
    ("admin@aal1", DENY, "delete from public.organizations where id = {org_e}"),
    ("cadmin_a", DENY, "delete from public.organizations where id = {org_a}"),
    ("cadmin_a", DENY, "delete from public.organizations"),
    # profiles: nobody inserts one (README §3, §9: only invitation acceptance creates a profile), so nobody
    # attaches a profile-less account (newbie) to an organization
    (
        "admin",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_b}, 'client_member', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "admin@aal1",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_b}, 'client_member', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_a}, 'client_member', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_b}, 'client_member', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_a}, 'agent', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({newbie}, {org_a}, 'client_member', 'N', 'B', 'newbie@example.be')",
    ),
    (
        "stranger",
        DENY,
        "insert into public.profiles (id, organization_id, role, first_name, surname, email)"
        " values ({stranger}, {org_a}, 'client_admin', 'N', 'B', 'stranger@example.be')",
    ),
    ("member_a1", ALLOW, "update public.profiles set first_name = 'Me' where id = {member_a1}"),
    ("member_a1", DENY, "update public.profiles set first_name = 'You' where id = {member_a2}"),
    ("member_a1", DENY, "update public.profiles set first_name = 'You' where id = {member_b1}"),
    ("agent_a", ALLOW, "update public.profiles set first_name = 'Me' where id = {agent_a}"),
    ("agent_a", DENY, "update public.profiles set first_name = 'You' where id = {member_a1}"),
    ("cadmin_a", ALLOW, "update public.profiles set first_name = 'Staff' where id = {member_a2}"),
    ("cadmin_a", DENY, "update public.profiles set first_name = 'Staff' where id = {member_b1}"),
    ("cadmin_a", DENY, "update public.profiles set role = 'agent' where id = {member_a2}"),
    ("admin", ALLOW, "update public.profiles set first_name = 'Any' where id = {member_b1}"),
    ("admin@aal1", DENY, "update public.profiles set first_name = 'Any' where id = {member_b1}"),
    ("member_a3_off", DENY, "update public.profiles set first_name = 'Back' where id = {member_a3_off}"),
    ("member_a3_off", DENY, "update public.profiles set first_name = 'Back'"),
    ("member_a1", DENY, "update public.profiles set organization_id = {org_b} where id = {member_a1}"),
    ("cadmin_a", DENY, "update public.profiles set organization_id = {org_b} where id = {member_a2}"),
    ("cadmin_a", DENY, "update public.profiles set role = 'admin' where id = {cadmin_a}"),
    ("agent_a", DENY, "update public.profiles set first_name = 'You' where id = {admin}"),
    ("cadmin_a", DENY, "delete from public.profiles"),
    ("admin", DENY, "delete from public.profiles where id = {member_b2}"),
    # erased profiles and the placeholder (README §8b): immutable for everyone, admins included; an update of
    # a whole organization (or of everything) reaches exactly the rows that are not erased
    ("cadmin_a", DENY, "update public.profiles set first_name = 'Revealed' where id = {placeholder_a}"),
    ("cadmin_a", DENY, "update public.profiles set deactivated_at = null where id = {placeholder_a}"),
    ("cadmin_a", DENY, "update public.profiles set role = 'client_admin' where id = {erased_a}"),
    ("admin", DENY, "update public.profiles set first_name = 'Revealed' where id = {erased_a}"),
    (
        "admin",
        DENY,
        "update public.profiles set deactivated_at = null, role = 'admin', organization_id = null"
        " where id = {placeholder_a}",
    ),
    ("admin", DENY, "delete from public.profiles where id = {placeholder_a}"),
    ("cadmin_a", "4", "update public.profiles set position = 'Staff'"),
    ("member_a1", "1", "update public.profiles set first_name = 'Me'"),
    ("admin", "10", "update public.profiles set position = 'Staff'"),
    # agent_assignments
    (
        "admin",
        ALLOW,
        "insert into public.agent_assignments (agent_id, organization_id) values ({agent_a}, {org_b})",
    ),
    (
        "admin@aal1",
        DENY,
        "insert into public.agent_assignments (agent_id, organization_id) values ({agent_a}, {org_b})",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.agent_assignments (agent_id, organization_id) values ({agent_a}, {org_b})",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.agent_assignments (agent_id, organization_id) values ({agent_a}, {org_b})",
    ),
    ("admin", ALLOW, "delete from public.agent_assignments where id = {asg_agent_b}"),
    ("admin@aal1", DENY, "delete from public.agent_assignments where id = {asg_agent_b}"),
    ("agent_a", DENY, "delete from public.agent_assignments"),
    ("cadmin_a", DENY, "delete from public.agent_assignments"),
    # tickets
    (
        "member_a1",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a1}, 's', 'd')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_a1}, 's', 'd')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a2}, 's', 'd')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description, status)"
        " values ({org_a}, {member_a1}, 's', 'd', 'open')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description, assignee_id)"
        " values ({org_a}, {member_a1}, 's', 'd', {agent_a})",
    ),
    (
        "cadmin_a",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {cadmin_a}, 's', 'd')",
    ),
    # An agent opens a ticket on a client's behalf (a phone call): assigned organization, an active person
    # of it, new, unassigned or assigned to self.
    (
        "agent_a",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a1}, 's', 'd')",
    ),
    (
        "agent_a",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description, assignee_id)"
        " values ({org_a}, {cadmin_a}, 's', 'd', {agent_a})",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_b1}, 's', 'd')",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a3_off}, 's', 'd')",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description, status)"
        " values ({org_a}, {member_a1}, 's', 'd', 'open')",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description, assignee_id)"
        " values ({org_a}, {member_a1}, 's', 'd', {admin})",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {agent_a}, 's', 'd')",
    ),
    (
        "agent_b",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_e}, {member_b1}, 's', 'd')",
    ),
    (
        "agent_b",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_b1}, 's', 'd')",
    ),
    (
        "agent_a@aal1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a1}, 's', 'd')",
    ),
    (
        "agent_off",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_b1}, 's', 'd')",
    ),
    (
        "cadmin_a",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {member_a1}, 's', 'd')",
    ),
    (
        "admin",
        ALLOW,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_b1}, 's', 'd')",
    ),
    (
        "admin@aal1",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_b}, {member_b1}, 's', 'd')",
    ),
    (
        "stranger",
        DENY,
        "insert into public.tickets (organization_id, requester_id, subject, description)"
        " values ({org_a}, {stranger}, 's', 'd')",
    ),
    ("member_a1", ALLOW, "update public.tickets set status = 'resolved' where id = {t_a1}"),
    ("member_a1", DENY, "update public.tickets set status = 'resolved' where id = {t_a2}"),
    ("member_a1", DENY, "update public.tickets set status = 'resolved' where id = {t_b1}"),
    ("member_a1", "1", "update public.tickets set status = 'resolved'"),
    ("member_b1", ALLOW, "update public.tickets set status = 'resolved' where id = {t_b2}"),
    ("cadmin_a", ALLOW, "update public.tickets set status = 'resolved' where id = {t_a2}"),
    ("cadmin_a", "2", "update public.tickets set status = 'resolved'"),
    ("agent_a", ALLOW, "update public.tickets set priority = 'high' where id = {t_a1}"),
    ("agent_a", DENY, "update public.tickets set priority = 'high' where id = {t_b1}"),
    ("agent_a", "2", "update public.tickets set priority = 'high'"),
    ("agent_a@aal1", DENY, "update public.tickets set priority = 'high' where id = {t_a1}"),
    ("admin", ALLOW, "update public.tickets set priority = 'high' where id = {t_b1}"),
    ("member_a1", DENY, "delete from public.tickets where id = {t_a1}"),
    ("admin", DENY, "delete from public.tickets where id = {t_a1}"),
    # ticket_messages
    (
        "member_a1",
        ALLOW,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_a1}, {member_a1}, 'x')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_a1}, {member_a2}, 'x')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body, internal)"
        " values ({t_a1}, {member_a1}, 'x', true)",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_a2}, {member_a1}, 'x')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_b1}, {member_a1}, 'x')",
    ),
    (
        "agent_a",
        ALLOW,
        "insert into public.ticket_messages (ticket_id, author_id, body, internal)"
        " values ({t_a1}, {agent_a}, 'x', true)",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body, internal)"
        " values ({t_b1}, {agent_a}, 'x', true)",
    ),
    (
        "agent_a@aal1",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_a1}, {agent_a}, 'x')",
    ),
    (
        "admin",
        ALLOW,
        "insert into public.ticket_messages (ticket_id, author_id, body, internal)"
        " values ({t_b1}, {admin}, 'x', true)",
    ),
    (
        "stranger",
        DENY,
        "insert into public.ticket_messages (ticket_id, author_id, body) values ({t_a1}, {stranger}, 'x')",
    ),
    ("admin", DENY, "delete from public.ticket_messages where id = {m_a1}"),
    ("member_a1", DENY, "update public.ticket_messages set body = 'edited' where id = {m_a1}"),
    # attachments
    (
        "member_a1",
        ALLOW,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name,"
        " content_type, size_bytes, sha256) values ({t_a1}, {org_a}, {member_a1}, 'a.txt', 'text/plain', 1, repeat('b', 64))",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name,"
        " content_type, size_bytes, sha256) values ({t_a1}, {org_a}, {member_a2}, 'a.txt', 'text/plain', 1, repeat('b', 64))",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, internal, file_name,"
        " content_type, size_bytes, sha256) values ({t_a1}, {org_a}, {member_a1}, true, 'a.txt', 'text/plain', 1,"
        " repeat('b', 64))",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name,"
        " content_type, size_bytes, sha256) values ({t_a2}, {org_a}, {member_a1}, 'a.txt', 'text/plain', 1, repeat('b', 64))",
    ),
    (
        "agent_a",
        ALLOW,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, internal, file_name,"
        " content_type, size_bytes, sha256) values ({t_a1}, {org_a}, {agent_a}, true, 'a.txt', 'text/plain', 1,"
        " repeat('b', 64))",
    ),
    (
        "agent_a",
        DENY,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name,"
        " content_type, size_bytes, sha256) values ({t_b1}, {org_b}, {agent_a}, 'a.txt', 'text/plain', 1, repeat('b', 64))",
    ),
    (
        "agent_a@aal1",
        DENY,
        "insert into public.attachments (ticket_id, organization_id, uploaded_by, file_name,"
        " content_type, size_bytes, sha256) values ({t_a1}, {org_a}, {agent_a}, 'a.txt', 'text/plain', 1, repeat('b', 64))",
    ),
    ("admin", DENY, "delete from public.attachments where id = {f_a1}"),
    # storage.objects
    (
        "member_a1",
        ALLOW,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a1_pending}",
    ),
    (
        "member_a1",
        DENY,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a2_pending}",
    ),
    ("member_a1", DENY, "insert into storage.objects (bucket_id, name) select 'other', {path_f_a1_pending}"),
    (
        "member_a1",
        DENY,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a1i_pending}",
    ),
    (
        "member_b1",
        DENY,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a1_pending}",
    ),
    (
        "agent_a",
        ALLOW,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a1i_pending}",
    ),
    (
        "agent_a@aal1",
        DENY,
        "insert into storage.objects (bucket_id, name) select 'attachments', {path_f_a1i_pending}",
    ),
    ("member_a1", DENY, "delete from storage.objects"),
    ("member_a1", DENY, "update storage.objects set name = 'moved'"),
    # audit_log
    ("admin", DENY, "delete from public.audit_log"),
    (
        "member_a1",
        DENY,
        "insert into public.audit_log (actor_id, action, object_table) values ({member_b1}, 'read', 'x')",
    ),
    # dsr_requests
    (
        "admin",
        ALLOW,
        "insert into public.dsr_requests (subject_id, subject_email, type) values ({member_b2},"
        " 'member_b2@example.be', 'access')",
    ),
    (
        "admin@aal1",
        DENY,
        "insert into public.dsr_requests (subject_id, subject_email, type) values ({member_b2},"
        " 'member_b2@example.be', 'access')",
    ),
    (
        "member_a1",
        DENY,
        "insert into public.dsr_requests (subject_id, subject_email, type) values ({member_a1},"
        " 'member_a1@example.be', 'access')",
    ),
    ("admin", ALLOW, "update public.dsr_requests set notes = 'seen' where id = {dsr_b1}"),
    ("admin@aal1", DENY, "update public.dsr_requests set notes = 'seen' where id = {dsr_b1}"),
    ("member_a1", DENY, "update public.dsr_requests set notes = 'mine' where id = {dsr_a1}"),
    ("member_a1", DENY, "update public.dsr_requests set notes = 'mine'"),
    ("admin", DENY, "delete from public.dsr_requests where id = {dsr_b1}"),
)
# SLA reference tables: read by all, written by admins only.
_SLA_WRITES = {
    "business_calendars": ("insert into public.business_calendars (name) values ('X')",
                           "update public.business_calendars set name = 'Y' where id = {cal}",
                           "delete from public.business_calendars where id = {cal_spare}"),
    "business_hours": ("insert into public.business_hours (calendar_id, day_of_week, opens_at, closes_at)"
                       " values ({cal}, 2, '09:00', '17:00')",
                       "update public.business_hours set opens_at = '08:00' where id = {hours}",
                       "delete from public.business_hours where id = {hours}"),
    "holidays": ("insert into public.holidays (calendar_id, day, name) values ({cal}, '2026-01-01', 'NY')",
                 "update public.holidays set name = 'Xmas' where id = {holiday}",
                 "delete from public.holidays where id = {holiday}"),
    "sla_plans": ("insert into public.sla_plans (code, name, calendar_id) values ('gold', 'Gold', {cal})",
                  "update public.sla_plans set name = 'Standard' where id = {plan}",
                  "delete from public.sla_plans where id = {plan_spare}"),
    "sla_policies": ("insert into public.sla_policies"
                     " (plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)"
                     " values ({plan}, 'high', 30, 60, 240)",
                     "update public.sla_policies set resolution_minutes = 600 where id = {slapol}",
                     "delete from public.sla_policies where id = {slapol}"),
}  # fmt: skip
SLA_WRITES = tuple(
    (ident, expectation, statement)
    for statements in _SLA_WRITES.values()
    for statement in statements
    for ident, expectation in (("admin", ALLOW), ("admin@aal1", DENY), ("cadmin_a", DENY), ("agent_a", DENY))
) + tuple(("member_a1", DENY, f"delete from public.{table}") for table in _SLA_WRITES)  # noqa: S608 (fixed names)


_INVITE = (
    "insert into private.invitations (email, organization_id, role, first_name, surname, nonce_hash)"
    " values ('fresh@example.be', {org}, '{role}', 'F', 'Resh', repeat('f', 64))"
)
# private.invitations (README §3, §4): admins invite anyone, client admins their own organization with a client
# role; nobody reads the nonce hash back or sets the expiry; nobody edits an invitation.
INVITATION_WRITES: tuple[tuple[str, str, str], ...] = (
    ("admin", ALLOW, _INVITE.format(org="null", role="admin")),
    ("admin@aal1", DENY, _INVITE.format(org="null", role="admin")),
    ("cadmin_a", ALLOW, _INVITE.format(org="{org_a}", role="client_admin")),
    ("cadmin_a", DENY, _INVITE.format(org="{org_b}", role="client_member")),
    ("cadmin_a", DENY, _INVITE.format(org="{org_a}", role="agent")),
    ("cadmin_a", DENY, _INVITE.format(org="null", role="agent")),
    ("member_a1", DENY, _INVITE.format(org="{org_a}", role="client_member")),
    ("agent_a", DENY, _INVITE.format(org="{org_a}", role="client_member")),
    ("stranger", DENY, _INVITE.format(org="null", role="admin")),
    (
        "admin",
        DENY,
        "insert into private.invitations (email, role, first_name, surname, nonce_hash, expires_at)"
        " values ('fresh@example.be', 'admin', 'F', 'Resh', repeat('f', 64), 'infinity')",
    ),
    ("admin", DENY, "select nonce_hash from private.invitations"),
    ("admin", DENY, "update private.invitations set role = 'admin' where id = {inv_b}"),
    ("admin", ALLOW, "delete from private.invitations where id = {inv_b}"),
    ("admin@aal1", DENY, "delete from private.invitations"),
    ("cadmin_a", ALLOW, "delete from private.invitations where id = {inv_a}"),
    ("cadmin_a", DENY, "delete from private.invitations where id in ({inv_b}, {inv_staff})"),
    ("cadmin_a", "1", "delete from private.invitations"),
    ("member_a1", DENY, "delete from private.invitations"),
    ("agent_a", DENY, "delete from private.invitations"),
)


def _params(conn: psycopg.Connection, w: FixedWorld) -> dict[str, str]:
    quoted = {k: f"'{v}'" for k, v in w.ids.items()}
    for label in ("f_a1_pending", "f_a2_pending", "f_a1i_pending"):
        path = conn.execute(
            "select storage_path from public.attachments where id = %s", (w[label],)
        ).fetchone()[0]
        quoted[f"path_{label}"] = f"'{path}'"
    return quoted


def check_writes(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    violations = []
    params = _params(conn, w)
    identities = {name: (user, aal) for name, user, aal in IDENTITIES}
    for name, expectation, template in WRITES + SLA_WRITES + INVITATION_WRITES:
        statement = template.format(**params)
        outcome, _ = run_as(conn, claims_for(w, *identities[name]), statement)
        if expectation.isdigit():
            ok = outcome.code is None and outcome.rows == int(expectation)
        else:
            ok = (outcome.code is None and outcome.rows) if expectation == ALLOW else outcome.denied
        if not ok:
            violations.append(f"writes: {name} must be {expectation}: {_short(template)} -> {outcome}")
    return violations


def _short(template: str) -> str:
    return template if len(template) < 140 else template[:137] + "..."


# --- columns (README §4) --------------------------------------------------------------------------------

WRITABLE: dict[str, dict[str, set[str]]] = {
    "public.organizations": {
        "insert": {"name", "enterprise_number", "contract_start", "contract_end", "sla_plan_id", "shared_tickets"},
        "update": {"name", "enterprise_number", "contract_start", "contract_end", "sla_plan_id", "shared_tickets"},
    },
    "public.profiles": {
        "insert": set(),  # only invitation acceptance creates a profile (README §9)
        "update": {"first_name", "surname", "position", "email", "phone", "organization_id", "role", "language",
                   "theme", "notify_ticket_replies", "notify_status_changes", "notify_sla_alerts", "restricted_at",
                   "deactivated_at"},
    },
    "public.agent_assignments": {"insert": {"agent_id", "organization_id"}, "update": set()},
    "public.tickets": {
        "insert": {"organization_id", "requester_id", "assignee_id", "subject", "description", "status", "priority",
                   "follow_up_of"},
        "update": {"assignee_id", "status", "priority"},
    },
    "public.ticket_messages": {"insert": {"ticket_id", "author_id", "body", "internal"}, "update": set()},
    "public.attachments": {
        "insert": {"ticket_id", "organization_id", "message_id", "uploaded_by", "internal", "file_name",
                   "content_type", "size_bytes", "sha256"},
        "update": set(),
    },
    "public.business_calendars": {"insert": {"name", "time_zone"}, "update": {"name", "time_zone"}},
    "public.business_hours": {
        "insert": {"calendar_id", "day_of_week", "opens_at", "closes_at"},
        "update": {"calendar_id", "day_of_week", "opens_at", "closes_at"},
    },
    "public.holidays": {"insert": {"calendar_id", "day", "name"}, "update": {"calendar_id", "day", "name"}},
    "public.sla_plans": {"insert": {"code", "name", "calendar_id"}, "update": {"code", "name", "calendar_id"}},
    "public.sla_policies": {
        "insert": {"plan_id", "priority", "first_response_minutes", "next_response_minutes", "resolution_minutes"},
        "update": {"plan_id", "priority", "first_response_minutes", "next_response_minutes", "resolution_minutes"},
    },
    "public.audit_log": {"insert": set(), "update": set()},
    "private.invitations": {
        "insert": {"email", "organization_id", "role", "first_name", "surname", "nonce_hash"},
        "update": set(),
    },
    "public.dsr_requests": {
        "insert": {"subject_id", "subject_email", "type", "status", "received_at", "due_at", "completed_at",
                   "handled_by", "notes"},
        "update": {"subject_id", "subject_email", "type", "status", "received_at", "due_at", "completed_at",
                   "handled_by", "notes"},
    },
}  # fmt: skip


def check_columns(conn: psycopg.Connection, w: FixedWorld) -> list[str]:
    """Column privileges as the admin (aal2) would use them: the statements touch no row."""
    violations = []
    admin = claims_for(w, "admin", "aal2")
    for table, commands in WRITABLE.items():
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
    tables = [t for t in WRITABLE]
    for table in tables:
        row = conn.execute(
            "select relrowsecurity, relforcerowsecurity from pg_class where oid = %s::regclass", (table,)
        ).fetchone()
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
    """The sweeper sees and deletes exactly the queued object (o_a1); nobody else deletes any object, even
    with Storage's flag set as its API sets it."""
    violations = []
    queued = {str(w["o_a1"])}
    # With RETURNING the SELECT policies filter the rows too; a bare DELETE answers to the DELETE policy alone.
    for query in ("select id from storage.objects", "delete from storage.objects returning id"):
        outcome, rows = run_as(conn, SWEEPER_CLAIMS, query, storage_api=True)
        if outcome.code is not None or {str(r[0]) for r in rows} != queued:
            violations.append(f"sweeper: `{query}` as the storage sweeper: {outcome}, want o_a1 only")
    outcome, _ = run_as(conn, SWEEPER_CLAIMS, "delete from storage.objects", storage_api=True)
    if outcome.rows != 1:
        violations.append(f"sweeper: a bare delete as the storage sweeper: {outcome}, want 1 row (o_a1)")
    for name, user, aal in IDENTITIES:
        for query in ("delete from storage.objects returning id", "delete from storage.objects"):
            outcome, _ = run_as(conn, claims_for(w, user, aal), query, storage_api=True)
            if not outcome.denied:
                violations.append(f"sweeper: {name} deleted storage objects with `{query}`: {outcome}")
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
