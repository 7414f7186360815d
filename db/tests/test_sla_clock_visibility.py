"""The SLA clocks (private.ticket_sla_clocks) follow the tickets policies exactly."""

from __future__ import annotations

import pytest

from db.rls.model import Identity
from db.testing import impersonate


@pytest.mark.parametrize("label", ["m1", "m2", "ca", "mb", "ag", "ag1", "ad", "ad1", "dx", "inv"])
def test_a_clock_is_visible_exactly_when_its_ticket_is(world_db, label):
    conn, world = world_db
    user = next(u for u in world.users if u.label == label)
    with impersonate(conn, Identity(user).claims()):
        tickets = {r[0] for r in conn.execute("select t.id from public.tickets as t").fetchall()}
        clocks = {
            r[0] for r in conn.execute("select c.ticket_id from private.ticket_sla_clocks as c").fetchall()
        }
    assert clocks == tickets


def test_every_ticket_of_the_world_has_a_clock(world_db):
    conn, world = world_db
    clocks = {r[0] for r in conn.execute("select c.ticket_id from private.ticket_sla_clocks as c").fetchall()}
    assert clocks == {t.id for t in world.tickets}
