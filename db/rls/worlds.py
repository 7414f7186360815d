"""Generated worlds for the isolation suite, and the loader that writes one into a migrated database.

One generator, two sources of choices: Hypothesis (`worlds()`, shrinkable, for pytest) and a seeded
`random.Random` (`random_world(seed)`, for `run_isolation` and the mutation tool, no pytest needed). Both go
through the `Chooser` protocol, so the shapes are identical.

Shape: 2-4 organizations (shared or not), per organization 1-3 client members and 0-2 client admins, 1-3
agents and 1-2 admins (aal2, aal1 or no aal claim; a few deactivated or erased), now and then an
organization's "Erased person" placeholder and the staff one (erased, deactivated, marked in auth.users),
accounts without a profile (an invited user and sometimes an anonymous sign-in), agent assignments, 0-5 tickets per organization in
every status, 0-2 messages per ticket (internal notes by staff), 0-2 attachments per ticket (some uploaded to
storage), an orphan object and another bucket's object, audit rows and data-subject requests.
Ids are deterministic (`stable_id`), so a failing example reads the same on every run.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

import psycopg
from hypothesis import strategies as st

from db.rls.model import (
    ATTACHMENTS_BUCKET,
    CLIENT_ROLES,
    PRIORITIES,
    STAFF_ROLES,
    TICKET_STATUSES,
    Assignment,
    Attachment,
    AuditRow,
    DsrRequest,
    Message,
    Org,
    RefRow,
    StoredObject,
    Ticket,
    User,
    World,
)
from db.testing_world import enterprise_number

T = TypeVar("T")
OTHER_BUCKET = "exports"

_KIND = {
    "org": 0x0A,
    "user": 0x0B,
    "assignment": 0x0C,
    "ticket": 0x0D,
    "message": 0x0E,
    "attachment": 0x0F,
    "object": 0x10,
    "audit": 0x11,
    "dsr": 0x12,
    "ref": 0x13,
    "probe": 0x14,
}


def stable_id(kind: str, n: int, salt: int = 0) -> uuid.UUID:
    """Readable deterministic ids: `0000000d-0000-4000-8000-000000000003` is ticket 3 (of salt 0)."""
    return uuid.UUID(f"{_KIND[kind]:08x}-{salt:04x}-4000-8000-{n:012x}")


def resalt(world: World, salt: int) -> World:
    """The same world with every id and unique value moved to `salt`, so that several copies can be loaded
    in concurrent transactions without waiting on each other's unique keys."""

    def move(value: Any, name: str = "") -> Any:
        if isinstance(value, uuid.UUID):
            text = str(value)
            return (
                uuid.UUID(f"{text[:9]}{salt:04x}{text[13:]}") if text[9:13] == f"{world.salt:04x}" else value
            )
        if isinstance(value, dict):
            return {k: move(v, k) for k, v in value.items()}
        if isinstance(value, str) and name == "email":
            local, _, domain = value.partition("@")
            return f"{local.split('.s')[0]}.s{salt}@{domain}"
        return value

    def move_obj(obj: Any) -> Any:
        changes = {f.name: move(getattr(obj, f.name), f.name) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)

    out = World(salt=salt)
    for f in dataclasses.fields(World):
        items = getattr(world, f.name)
        if isinstance(items, list):
            setattr(out, f.name, [move_obj(x) for x in items])
    out.reference = [
        dataclasses.replace(r, values={**r.values, **_unique_ref_values(r.values, salt)})
        for r in out.reference
    ]
    out.objects = [
        dataclasses.replace(
            o,
            bucket=o.bucket if o.bucket == ATTACHMENTS_BUCKET else f"{OTHER_BUCKET}-{salt}",
            name="/".join(str(move(uuid.UUID(p))) if _is_uuid(p) else p for p in o.name.split("/")),
        )
        for o in out.objects
    ]
    out.buckets = tuple(b if b == ATTACHMENTS_BUCKET else f"{OTHER_BUCKET}-{salt}" for b in world.buckets)
    return out


def _unique_ref_values(values: Mapping[str, Any], salt: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "code" in values:
        out["code"] = f"{str(values['code']).split('_s')[0]}_s{salt}"
    if "time_zone" in values:  # calendars: name is unique
        out["name"] = f"{str(values['name']).split(' #')[0]} #{salt}"
    return out


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class Chooser(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...
    def boolean(self, p: float = 0.5) -> bool: ...
    def choice(self, options: Sequence[T]) -> T: ...


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def boolean(self, p: float = 0.5) -> bool:
        return self.rng.random() < p

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))


class DrawChooser:
    """Hypothesis draws; every choice shrinks towards the smallest, least unusual world."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def boolean(self, p: float = 0.5) -> bool:
        # Shrinks to False: x in [0, 100), True when x >= 100 * (1 - p).
        return self.draw(st.integers(0, 99)) >= round(100 * (1 - p))

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))


def build_world(ch: Chooser) -> World:
    w = World()
    counters: dict[str, int] = {}

    def new_id(kind: str) -> uuid.UUID:
        counters[kind] = counters.get(kind, 0) + 1
        return stable_id(kind, counters[kind])

    _reference_data(w, new_id)
    for i in range(ch.integer(2, 4)):
        w.orgs.append(Org(new_id("org"), "ABCD"[i], ch.boolean()))

    def add_user(role: str | None, org: uuid.UUID | None, **kw: Any) -> User:
        n = len(w.users) + 1
        if role in STAFF_ROLES:
            aal = ch.choice(["aal2", "aal2", "aal2", "aal1", None])
        elif role in CLIENT_ROLES:
            aal = ch.choice(["aal1", "aal2", None])
        else:
            aal = "aal1"
        state = ch.choice(["active"] * 8 + ["deactivated", "erased"]) if role else "active"
        home = w.org(org) if org else None
        org_label = home.label.lower() if home else "nexk"
        u = User(
            id=new_id("user"),
            label=f"u{n}",
            role=role,
            org=org,
            aal=aal,
            email=f"u{n}@{org_label}.example",
            deactivated=state == "deactivated",
            erased=state == "erased",
            **kw,
        )
        w.users.append(u)
        return u

    def add_placeholder(org: uuid.UUID | None) -> User:
        n = len(w.users) + 1
        u = User(
            id=new_id("user"),
            label=f"u{n}-placeholder",
            role="client_member" if org else "agent",
            org=org,
            aal=None,
            email=f"erased-person-u{n}@erased.invalid",
            deactivated=True,
            erased=True,
            placeholder=True,
        )
        w.users.append(u)
        return u

    for o in w.orgs:
        for _ in range(ch.integer(1, 3)):
            add_user("client_member", o.id)
        for _ in range(ch.integer(0, 2)):
            add_user("client_admin", o.id)
    agents = [add_user("agent", None) for _ in range(ch.integer(1, 3))]
    for _ in range(ch.integer(1, 2)):
        add_user("admin", None)
    # "Erased person" placeholders (README §8b): one per organization now and then, and the staff one; each is
    # erased and deactivated, and carries erased people's tickets and messages like any requester/author.
    for o in w.orgs:
        if ch.boolean(0.5):
            add_placeholder(o.id)
    if ch.boolean(0.3):
        add_placeholder(None)
    add_user(None, None)  # an invited account whose profile does not exist yet
    if ch.boolean(0.5):
        add_user(None, None, anonymous=True)

    for a in agents:
        for o in w.orgs:
            if ch.boolean(0.5):
                w.assignments.append(
                    Assignment(new_id("assignment"), f"as{len(w.assignments) + 1}", a.id, o.id)
                )

    staff = [u for u in w.users if u.role in STAFF_ROLES]
    for o in w.orgs:
        clients = [u for u in w.users if u.org == o.id]
        assignable = [
            u
            for u in staff
            if not u.deactivated
            and (u.role == "admin" or any(x.agent == u.id and x.org == o.id for x in w.assignments))
        ]
        for _ in range(ch.integer(0, 5)):
            assignee = ch.choice(assignable).id if assignable and ch.boolean(0.5) else None
            w.tickets.append(
                Ticket(
                    new_id("ticket"),
                    f"t{len(w.tickets) + 1}",
                    o.id,
                    ch.choice(clients).id,
                    assignee,
                    ch.choice(TICKET_STATUSES),
                    ch.choice(PRIORITIES),
                )
            )

    people = [u for u in w.users if u.has_profile]
    for t in w.tickets:
        authors = [u for u in people if u.org == t.org or u.role in STAFF_ROLES]
        ticket_messages: list[Message] = []
        for _ in range(ch.integer(0, 2)):
            author = ch.choice(authors)
            internal = author.role in STAFF_ROLES and ch.boolean(0.5)
            m = Message(new_id("message"), f"m{len(w.messages) + 1}", t.id, author.id, internal)
            w.messages.append(m)
            ticket_messages.append(m)
        for _ in range(ch.integer(0, 2)):
            message = ch.choice(ticket_messages) if ticket_messages and ch.boolean(0.5) else None
            internal = message.internal if message else ch.boolean(0.3)
            w.attachments.append(
                Attachment(
                    new_id("attachment"),
                    f"f{len(w.attachments) + 1}",
                    t.id,
                    t.org,
                    message.id if message else None,
                    ch.choice(authors).id,
                    internal,
                    ch.boolean(0.6),
                )
            )
    for attachment in w.attachments:
        if attachment.has_object:
            w.objects.append(
                StoredObject(
                    new_id("object"), f"o{len(w.objects) + 1}", ATTACHMENTS_BUCKET, attachment.storage_path
                )
            )
    # A file with no attachment row (a failed upload) and another bucket's file: nobody reads either.
    w.objects.append(
        StoredObject(
            new_id("object"), "o-orphan", ATTACHMENTS_BUCKET, f"{w.orgs[0].id}/{uuid.UUID(int=7)}/orphan"
        )
    )
    w.objects.append(
        StoredObject(new_id("object"), "o-export", f"{OTHER_BUCKET}-0", f"{w.orgs[0].id}/export.csv")
    )
    w.buckets = (ATTACHMENTS_BUCKET, f"{OTHER_BUCKET}-0")

    everyone = w.users
    for _ in range(ch.integer(0, 5)):
        actor = ch.choice(everyone).id if ch.boolean(0.8) else None
        w.audit.append(AuditRow(new_id("audit"), f"a{len(w.audit) + 1}", actor))
    admins = [u for u in w.users if u.role == "admin"]
    for _ in range(ch.integer(0, 3)):
        subject = ch.choice(people).id if ch.boolean(0.8) else None
        handler = ch.choice(admins).id if ch.boolean(0.5) else None
        w.dsrs.append(DsrRequest(new_id("dsr"), f"d{len(w.dsrs) + 1}", subject, handler))
    return w


def _reference_data(w: World, new_id: Any) -> None:
    """SLA reference rows: calendar 1 (used by plan 1 and 2), calendar 2 (unused), plan 1 used by every org."""
    cal1, cal2 = new_id("ref"), new_id("ref")
    plan1, plan2 = new_id("ref"), new_id("ref")
    rows = [
        RefRow(
            cal1,
            "cal1",
            "public.business_calendars",
            {"name": "Brussels office", "time_zone": "Europe/Brussels"},
        ),
        RefRow(
            cal2, "cal2", "public.business_calendars", {"name": "Night desk", "time_zone": "Europe/Brussels"}
        ),
        RefRow(
            new_id("ref"),
            "hours1",
            "public.business_hours",
            {"calendar_id": cal1, "day_of_week": 1, "opens_at": "08:00", "closes_at": "17:00"},
        ),
        RefRow(
            new_id("ref"),
            "hours2",
            "public.business_hours",
            {"calendar_id": cal2, "day_of_week": 2, "opens_at": "20:00", "closes_at": "23:00"},
        ),
        RefRow(
            new_id("ref"),
            "hol1",
            "public.holidays",
            {"calendar_id": cal1, "day": "2026-12-25", "name": "Christmas"},
        ),
        RefRow(
            new_id("ref"),
            "hol2",
            "public.holidays",
            {"calendar_id": cal2, "day": "2027-01-01", "name": "New Year"},
        ),
        RefRow(
            plan1,
            "plan1",
            "public.sla_plans",
            {"code": "standard", "name": "Standard", "calendar_id": cal1, "in_use": True},
        ),
        RefRow(
            plan2, "plan2", "public.sla_plans", {"code": "premium", "name": "Premium", "calendar_id": cal1}
        ),
        RefRow(
            new_id("ref"),
            "pol1",
            "public.sla_policies",
            {
                "plan_id": plan1,
                "priority": "normal",
                "first_response_minutes": 60,
                "next_response_minutes": 120,
                "resolution_minutes": 480,
            },
        ),
        RefRow(
            new_id("ref"),
            "pol2",
            "public.sla_policies",
            {
                "plan_id": plan2,
                "priority": "low",
                "first_response_minutes": 120,
                "next_response_minutes": 240,
                "resolution_minutes": 960,
            },
        ),
    ]
    w.reference.extend(rows)


def random_world(seed: int) -> World:
    """The world for `seed`: the same world on every machine and run."""
    return build_world(RandomChooser(random.Random(seed)))  # noqa: S311


@st.composite
def worlds(draw: Any) -> World:
    """Hypothesis strategy: worlds built from shrinkable draws."""
    return build_world(DrawChooser(draw))


def plan_id(world: World) -> uuid.UUID:
    return next(r.id for r in world.reference if r.label == "plan1")


# --- Loading -------------------------------------------------------------------------------------------


def _subject_email(world: World, subject: uuid.UUID | None) -> str:
    """A DSR's subject address: its user's, or a stranger's when the request names nobody in the world."""
    user = world.user(subject) if subject else None
    if subject and user is None:
        raise LookupError(f"DSR subject {subject} is not a user of this world")
    return user.email if user else "someone@else.example"


def load_world(conn: psycopg.Connection, world: World) -> None:
    """Write `world` as the owner (bypassing RLS) into the current transaction of `conn`.

    The caller owns the transaction (the suite rolls each world back). Triggers run as in production; the
    audit entries they write while loading are replaced by the world's own audit rows at the end.
    """
    with conn.cursor() as cur:
        ref = {t: [r for r in world.reference if r.table == t] for t in {r.table for r in world.reference}}
        cur.executemany(
            "insert into public.business_calendars (id, name, time_zone) values (%s, %s, %s)",
            [(r.id, r.values["name"], r.values["time_zone"]) for r in ref["public.business_calendars"]],
        )
        cur.executemany(
            "insert into public.business_hours (id, calendar_id, day_of_week, opens_at, closes_at)"
            " values (%s, %s, %s, %s, %s)",
            [
                (
                    r.id,
                    r.values["calendar_id"],
                    r.values["day_of_week"],
                    r.values["opens_at"],
                    r.values["closes_at"],
                )
                for r in ref["public.business_hours"]
            ],
        )
        cur.executemany(
            "insert into public.holidays (id, calendar_id, day, name) values (%s, %s, %s, %s)",
            [
                (r.id, r.values["calendar_id"], r.values["day"], r.values["name"])
                for r in ref["public.holidays"]
            ],
        )
        cur.executemany(
            "insert into public.sla_plans (id, code, name, calendar_id) values (%s, %s, %s, %s)",
            [
                (r.id, r.values["code"], r.values["name"], r.values["calendar_id"])
                for r in ref["public.sla_plans"]
            ],
        )
        cur.executemany(
            "insert into public.sla_policies"
            " (id, plan_id, priority, first_response_minutes, next_response_minutes, resolution_minutes)"
            " values (%s, %s, %s, %s, %s, %s)",
            [
                (
                    r.id,
                    r.values["plan_id"],
                    r.values["priority"],
                    r.values["first_response_minutes"],
                    r.values["next_response_minutes"],
                    r.values["resolution_minutes"],
                )
                for r in ref["public.sla_policies"]
            ],
        )
        cur.executemany(
            "insert into public.organizations (id, name, enterprise_number, contract_start, sla_plan_id,"
            " shared_tickets) values (%s, %s, %s, '2025-01-01', %s, %s)",
            [
                (
                    o.id,
                    f"Org {o.label}",
                    enterprise_number(1000 * world.salt + i + 1),
                    plan_id(world),
                    o.shared_tickets,
                )
                for i, o in enumerate(world.orgs)
            ],
        )
        cur.executemany(
            "insert into auth.users (id, email, role, aud, is_anonymous, raw_app_meta_data) values (%s, %s,"
            " 'authenticated', 'authenticated', %s,"
            " case when %s then jsonb_build_object('nexk_placeholder', 'erased_person') end)",
            [
                (u.id, None if u.anonymous or u.placeholder else u.email, u.anonymous, u.placeholder)
                for u in world.users
            ],
        )
        cur.executemany(
            "insert into public.profiles (id, organization_id, role, first_name, surname, email,"
            " deactivated_at, erased_at) values (%s, %s, %s, %s, 'Tester', %s,"
            " case when %s then now() end, case when %s then now() end)",
            [
                (u.id, u.org, u.role, f"User {u.label}", u.email, u.deactivated, u.erased)
                for u in world.users
                if u.has_profile
            ],
        )
        cur.executemany(
            "insert into public.agent_assignments (id, agent_id, organization_id) values (%s, %s, %s)",
            [(a.id, a.agent, a.org) for a in world.assignments],
        )
        cur.executemany(
            "insert into public.tickets (id, organization_id, requester_id, assignee_id, subject, description,"
            " status, priority) values (%s, %s, %s, %s, %s, 'Generated ticket', %s, %s)",
            [
                (t.id, t.org, t.requester, t.assignee, f"Ticket {t.label}", t.status, t.priority)
                for t in world.tickets
            ],
        )
        cur.executemany(
            "insert into public.ticket_messages (id, ticket_id, author_id, body, internal)"
            " values (%s, %s, %s, %s, %s)",
            [(m.id, m.ticket, m.author, f"Message {m.label}", m.internal) for m in world.messages],
        )
        cur.executemany(
            "insert into public.attachments (id, ticket_id, organization_id, message_id, uploaded_by, internal,"
            " file_name, content_type, size_bytes, sha256) values (%s, %s, %s, %s, %s, %s, %s, 'text/plain', 12,"
            " repeat('a', 64))",
            [
                (a.id, a.ticket, a.org, a.message, a.uploaded_by, a.internal, f"{a.label}.txt")
                for a in world.attachments
            ],
        )
        cur.executemany(
            "insert into storage.buckets (id, name, public) values (%s, %s, false) on conflict (id) do nothing",
            [(b, b) for b in world.buckets],
        )
        cur.executemany(
            "insert into storage.objects (id, bucket_id, name, owner) values (%s, %s, %s, null)",
            [(o.id, o.bucket, o.name) for o in world.objects],
        )
        cur.executemany(
            "insert into public.dsr_requests (id, subject_id, subject_email, type, handled_by)"
            " values (%s, %s, %s, 'access', %s)",
            [(d.id, d.subject, _subject_email(world, d.subject), d.handled_by) for d in world.dsrs],
        )
        cur.execute("delete from public.audit_log")
        cur.executemany(
            "insert into public.audit_log (id, actor_id, jwt_role, action, object_table) values (%s, %s,"
            " 'authenticated', 'read', 'tickets')",
            [(a.id, a.actor) for a in world.audit],
        )
