"""The portal after profile data minimisation (db/policies/profiles.sql, db/schema/0310): a client member reads
no colleague's profile row, yet every page names the same people as before, for every role, through
private.display_names(), called once per page."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from portal_testkit import World, sign_in

from app.queries import tickets as q
from db.testing import impersonate


@pytest.fixture
def shared(world: World) -> World:
    """Organization S shares its tickets: Griet and Jan (members) and Lotte (client admin); agent Karel serves
    it. Jan's ticket is assigned to Karel; Jan and Karel replied on it, and Karel left an internal note."""
    world.org("s", shared=True)
    world.person("griet_s", "client_member", "s")
    world.person("jan_s", "client_member", "s")
    world.person("lotte_s", "client_admin", "s")
    world.person("karel", "agent", totp=True)
    world.assign("karel", "s")
    world.ticket("s1", "jan_s", subject="Scanner jams")
    world.db.execute(
        "update public.tickets set assignee_id = %s where id = %s",
        (world.people["karel"].id, world.tickets["s1"]),
    )
    world.message("s1", "jan_s", "It jams on every page.")
    world.message("s1", "karel", "Try the other tray.")
    world.message("s1", "karel", "Vendor RMA pending", internal=True)
    return world


def test_a_member_still_sees_a_colleagues_name_on_the_shared_list_and_thread_but_no_staff_name(
    portal: TestClient, shared: World
) -> None:
    sign_in(portal, shared.people["griet_s"])
    listing = portal.get("/tickets").text
    assert "Scanner jams" in listing and "Jan Tester" in listing
    # Clients learn only the first name of the agent who works on their ticket (README §6, 0341).
    assert "Karel Tester" not in listing and '<span class="assignee">Karel</span>' in listing
    thread = portal.get(f"/tickets/{shared.tickets['s1']}").text
    assert "Jan Tester" in thread  # requester and author of the first reply
    assert "Try the other tray." in thread and "Karel Tester" not in thread
    assert "Vendor RMA pending" not in thread


@pytest.mark.parametrize(("who", "names", "hidden"), [
    ("lotte_s", {"Jan Tester"}, {"Karel Tester"}),
    ("karel", {"Jan Tester", "Karel Tester"}, set()),
])  # fmt: skip
def test_client_admins_and_agents_see_the_same_names_as_before(
    portal: TestClient, shared: World, who: str, names: set[str], hidden: set[str]
) -> None:
    sign_in(portal, shared.people[who])
    listing = portal.get("/agent/queue" if who == "karel" else "/tickets").text
    thread = portal.get(f"/tickets/{shared.tickets['s1']}").text
    for page in (listing, thread):
        assert all(name in page for name in names), names
        assert not any(name in page for name in hidden), hidden


def test_the_list_page_names_its_people_with_one_helper_call_whatever_the_number_of_rows(
    shared: World, db: psycopg.Connection
) -> None:
    for n in range(30):
        shared.ticket(f"extra{n}", "griet_s" if n % 2 else "jan_s")
    query, params = q.list_statement(q.TicketFilter(), "client_member")
    with impersonate(db, shared.people["griet_s"].claims()) as conn:
        rows = conn.execute(query, params).fetchall()
        plan = conn.execute(psycopg.sql.SQL("explain (analyze, format json) ") + query, params).fetchone()[0]
    assert len(rows) == q.PAGE_SIZE + 1
    assert {r[-2] for r in rows} == {"Griet Tester", "Jan Tester"}  # requester_name
    scans = [node for node in _nodes(plan[0]["Plan"]) if node.get("Function Name") == "display_names"]
    assert [node["Actual Loops"] for node in scans] == [1], json.dumps(plan)[:2000]


def test_people_names_answers_a_member_about_colleagues_only(shared: World, db: psycopg.Connection) -> None:
    people = shared.people
    asked = {people[k].id for k in ("griet_s", "jan_s", "lotte_s", "karel", "member_b")} | {uuid.uuid4()}
    with impersonate(db, people["griet_s"].claims()) as conn:
        conn.row_factory = psycopg.rows.dict_row
        assert q.people_names(conn, asked) == {
            people["griet_s"].id: "Griet Tester",
            people["jan_s"].id: "Jan Tester",
            people["lotte_s"].id: "Lotte Tester",
            # Karel, the agent who answered their shared ticket: by first name only (README §6, 0341).
            people["karel"].id: "Karel",
        }
        assert q.people_names(conn, set()) == {}


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", ()) for n in _nodes(child))]
