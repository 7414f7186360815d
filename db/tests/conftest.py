"""Fixtures of the isolation suite: a small hand-built world (the model tests and the attack catalogue read
it like a story) and a database holding it, committed."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from db.rls.model import (
    ATTACHMENTS_BUCKET,
    Assignment,
    Attachment,
    AuditRow,
    DsrRequest,
    Message,
    Org,
    StoredObject,
    Ticket,
    User,
    World,
)
from db.rls.worlds import _reference_data, load_world, stable_id


def build_small_world() -> World:
    """Org A (tickets not shared): members m1, m2 and client admin ca. Org B (shared): member mb.
    Agent ag (aal2) serves A; agent ag1 (aal1) serves A and B; admin ad (aal2); admin ad1 (no aal claim);
    a deactivated member of A (dx); an invited account without a profile (inv).
    Tickets tA1 (m1, open), tA2 (m2, new), tB1 (mb, pending); messages: public and internal on tA1, public on
    tB1; files: fA1 (public, m1, uploaded), fA2 (internal, ag, uploaded), fA3 (public, m1, not uploaded),
    fB1 (public, mb, uploaded)."""
    w = World()
    counters: dict[str, int] = {}

    def new_id(kind: str):
        counters[kind] = counters.get(kind, 0) + 1
        return stable_id(kind, counters[kind])

    _reference_data(w, new_id)
    a, b = Org(new_id("org"), "A", False), Org(new_id("org"), "B", True)
    w.orgs = [a, b]

    def user(label, role, org, aal, **kw):
        u = User(new_id("user"), label, role, org.id if org else None, aal, f"{label}@example.test", **kw)
        w.users.append(u)
        return u

    m1 = user("m1", "client_member", a, "aal1")
    m2 = user("m2", "client_member", a, None)
    user("ca", "client_admin", a, "aal1")
    mb = user("mb", "client_member", b, "aal1")
    ag = user("ag", "agent", None, "aal2")
    ag1 = user("ag1", "agent", None, "aal1")
    user("ad", "admin", None, "aal2")
    user("ad1", "admin", None, None)
    user("dx", "client_member", a, "aal1", deactivated=True)
    user("inv", None, None, "aal1")
    w.assignments = [
        Assignment(new_id("assignment"), "as1", ag.id, a.id),
        Assignment(new_id("assignment"), "as2", ag1.id, a.id),
        Assignment(new_id("assignment"), "as3", ag1.id, b.id),
    ]
    ta1 = Ticket(new_id("ticket"), "tA1", a.id, m1.id, ag.id, "open", "normal")
    ta2 = Ticket(new_id("ticket"), "tA2", a.id, m2.id, None, "new", "low")
    tb1 = Ticket(new_id("ticket"), "tB1", b.id, mb.id, None, "pending", "high")
    w.tickets = [ta1, ta2, tb1]
    w.messages = [
        Message(new_id("message"), "mA1", ta1.id, m1.id, False),
        Message(new_id("message"), "mA2", ta1.id, ag.id, True),
        Message(new_id("message"), "mB1", tb1.id, mb.id, False),
    ]
    w.attachments = [
        Attachment(new_id("attachment"), "fA1", ta1.id, a.id, None, m1.id, False, True),
        Attachment(new_id("attachment"), "fA2", ta1.id, a.id, w.messages[1].id, ag.id, True, True),
        Attachment(new_id("attachment"), "fA3", ta1.id, a.id, None, m1.id, False, False),
        Attachment(new_id("attachment"), "fB1", tb1.id, b.id, None, mb.id, False, True),
    ]
    w.objects = [
        StoredObject(new_id("object"), f"o-{f.label}", ATTACHMENTS_BUCKET, f.storage_path)
        for f in w.attachments
        if f.has_object
    ]
    w.objects.append(StoredObject(new_id("object"), "o-export", "exports-0", f"{a.id}/export.csv"))
    w.buckets = (ATTACHMENTS_BUCKET, "exports-0")
    w.audit = [AuditRow(new_id("audit"), "a1", m1.id), AuditRow(new_id("audit"), "a2", mb.id)]
    w.dsrs = [DsrRequest(new_id("dsr"), "d1", m1.id, None)]
    return w


@pytest.fixture
def small_world() -> World:
    return build_small_world()


@pytest.fixture
def world_db(db: psycopg.Connection, small_world: World) -> Iterator[tuple[psycopg.Connection, World]]:
    """The owner connection of a fresh database holding `small_world` (committed)."""
    with db.transaction():
        load_world(db, small_world)
    yield db, small_world
