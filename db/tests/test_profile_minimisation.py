"""Profile data minimisation (GDPR Art. 5(1)(c); db/policies/README.md §3 profiles, §6 display names): a client
member learns a colleague's display name and nothing else about them: not their phone, position, language or
preferences, and above all not their GDPR markers (restricted_at says they filed a data-subject request).

Attacks run against `small_world` (db/tests/conftest.py) as PostgREST would run them, with org A made to share
its tickets so that m1 legitimately sees m2's ticket and thread: the only door left is the name.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.rls import model
from db.rls.model import Identity, World
from db.testing import impersonate

M2_PHONE = "+32 2 555 01 02"


def by_label(world: World, label: str) -> model.User:
    return next(u for u in world.users if u.label == label)


def claims_of(world: World, label: str) -> dict[str, object] | None:
    return Identity(by_label(world, label)).claims()


def sqlstate_of(conn: psycopg.Connection, sql: str) -> str | None:
    """Run `sql` in a savepoint that is always rolled back; its SQLSTATE (None when it succeeded)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(sql)
    except psycopg.Error as e:
        return e.sqlstate
    return None


@pytest.fixture
def shared_a(world_db) -> tuple[psycopg.Connection, World, dict[str, str]]:
    """Org A shares its tickets; m2 has a phone, a position, Dutch as language, an open restriction DSR, a public
    reply on their own ticket tA2, and is restricted (Art. 18). Returns the owner connection, the world and
    the ids a query may name (`%(m2)s`, `%(tA2)s`, ...)."""
    conn, w = world_db
    m2 = by_label(w, "m2")
    ta2 = next(t for t in w.tickets if t.label == "tA2")
    a = w.orgs[0]
    conn.execute("update public.organizations set shared_tickets = true where id = %s", (a.id,))
    conn.execute(
        "insert into public.ticket_messages (ticket_id, author_id, body) values (%s, %s, 'Any news?')",
        (ta2.id, m2.id),
    )
    conn.execute(
        "update public.profiles set phone = %s, position = 'Controller', language = 'nl' where id = %s",
        (M2_PHONE, m2.id),
    )
    conn.execute(
        "insert into public.dsr_requests (subject_id, subject_email, type) values (%s, %s, 'restriction')",
        (m2.id, m2.email),
    )
    conn.execute("update public.profiles set restricted_at = now() where id = %s", (m2.id,))
    params = {u.label: str(u.id) for u in w.users} | {"tA2": str(ta2.id), "orgA": str(a.id)}
    return conn, w, params


def test_a_member_reads_their_own_profile_row_and_no_colleagues(shared_a):
    conn, w, _ = shared_a
    for label in ("m1", "m2", "mb"):
        with impersonate(conn, claims_of(w, label)):
            rows = conn.execute("select id from public.profiles").fetchall()
        assert rows == [(by_label(w, label).id,)], label


# Every way a member might reach a colleague's row; each must return no row (the colleague's data never shows).
ROUTES = {
    "direct select by id": "select phone, restricted_at, deactivated_at, language from public.profiles"
    " where id = %(m2)s",
    "select of the organization": "select p.phone, p.restricted_at from public.profiles as p"
    " where p.organization_id = %(orgA)s and p.id <> %(m1)s",
    "deactivated colleague": "select p.deactivated_at from public.profiles as p where p.id = %(dx)s",
    "join through a shared ticket": "select p.phone, p.restricted_at, p.language from public.tickets as t"
    " inner join public.profiles as p on t.requester_id = p.id where t.id = %(tA2)s",
    "join through a thread": "select p.phone, p.restricted_at from public.ticket_messages as m"
    " inner join public.profiles as p on m.author_id = p.id where p.id <> %(m1)s",
    "subquery in a filter": "select t.id from public.tickets as t where exists (select 1 from public.profiles"
    " as p where p.id = t.requester_id and p.restricted_at is not null)",
    "marker as a filter": "select p.id from public.profiles as p where p.restricted_at is not null"
    " or p.deactivated_at is not null",
    "division-by-zero oracle": "select p.id from public.profiles as p where p.id = %(m2)s"
    " and 1 / (case when p.restricted_at is null then 1 else 0 end) = 1",
    "update returning": "update public.profiles set phone = phone where id = %(m2)s returning restricted_at",
    "their DSR": "select d.id from public.dsr_requests as d where d.subject_id = %(m2)s",
    "audit of their restriction": "select l.id from public.audit_log as l where l.object_id = %(m2)s",
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_member_cannot_read_a_colleagues_phone_restriction_deactivation_or_language_by_any_route(
    shared_a, route
):
    conn, w, params = shared_a
    with impersonate(conn, claims_of(w, "m1")):
        assert conn.execute("select id from public.tickets where id = %(tA2)s", params).fetchall()  # shared
        assert conn.execute(ROUTES[route], params).fetchall() == [], route


def test_a_member_finds_no_view_export_or_auth_table_that_exposes_a_colleague(shared_a):
    conn, w, _ = shared_a
    views = conn.execute(
        "select n.nspname || '.' || c.relname from pg_catalog.pg_class as c inner join pg_catalog.pg_namespace"
        " as n on c.relnamespace = n.oid where n.nspname in ('public', 'storage') and c.relkind in ('v', 'm')"
    ).fetchall()
    assert views == []  # README §5: no views
    m2 = by_label(w, "m2")
    with impersonate(conn, claims_of(w, "m1")):
        export = str(conn.execute("select private.my_dsr_export()").fetchone()[0])
        assert M2_PHONE not in export and m2.email not in export and "Controller" not in export
        for sql in ("select email from auth.users", "select * from private.notifications"):
            assert sqlstate_of(conn, sql) == "42501", sql


def test_a_member_still_names_colleagues_on_a_shared_ticket_through_the_helper_and_nothing_more(shared_a):
    conn, w, params = shared_a
    m2, ag = by_label(w, "m2"), by_label(w, "ag")
    with impersonate(conn, claims_of(w, "m1")):
        people = conn.execute(
            "select t.requester_id from public.tickets as t where t.id = %(tA2)s"
            " union select m.author_id from public.ticket_messages as m where m.ticket_id = %(tA2)s",
            params,
        ).fetchall()
        assert {r[0] for r in people} == {m2.id}
        cur = conn.execute("select * from private.display_names(%s::uuid[])", ([m2.id, ag.id, uuid.uuid4()],))
        assert [c.name for c in cur.description] == ["id", "name"]  # a name, never another column
        # Staff: the first name only, and only of staff who worked on a ticket m1 sees (ag is tA1's assignee;
        # README §6 from db/schema/0341).
        assert set(cur.fetchall()) == {(m2.id, "User m2 Tester"), (ag.id, "User ag")}


def test_a_colleagues_name_is_the_same_whether_or_not_they_are_restricted_or_deactivated(shared_a):
    """The helper is no oracle for GDPR markers: restricting or deactivating m2 changes nothing m1 gets."""
    conn, w, _ = shared_a
    m2 = by_label(w, "m2")
    answers = []
    for marker in ("restricted_at = null", "deactivated_at = now()", "restricted_at = now()"):
        conn.execute(f"update public.profiles set {marker} where id = %s", (m2.id,))  # noqa: S608 (fixed)
        with impersonate(conn, claims_of(w, "m1")):
            answers.append(
                conn.execute("select * from private.display_names(%s::uuid[])", ([m2.id],)).fetchall()
            )
    assert answers == [[(m2.id, "User m2 Tester")]] * 3


def test_a_member_names_nobody_outside_their_organization(shared_a):
    """Except, by first name, the staff who worked on a ticket they see (ag, tA1's assignee; README §6):
    ag1, ad and ad1 have not, so they stay nameless."""
    conn, w, _ = shared_a
    outside = [by_label(w, label).id for label in ("mb", "ag1", "ad", "ad1", "inv")]
    with impersonate(conn, claims_of(w, "m1")):
        assert conn.execute("select * from private.display_names(%s::uuid[])", (outside,)).fetchall() == []
    with impersonate(conn, claims_of(w, "mb")):
        org_a = [by_label(w, label).id for label in ("m1", "m2", "ca", "dx")]
        assert conn.execute("select * from private.display_names(%s::uuid[])", (org_a,)).fetchall() == []


def test_a_client_admin_still_reads_and_manages_the_members_of_their_organization(shared_a):
    conn, w, params = shared_a
    m1 = by_label(w, "m1")
    with impersonate(conn, claims_of(w, "ca")):
        rows = conn.execute(
            "select p.id, p.phone, p.restricted_at is not null from public.profiles as p"
        ).fetchall()
        assert {r[0] for r in rows} == {by_label(w, label).id for label in ("m1", "m2", "ca", "dx")}
        assert (by_label(w, "m2").id, M2_PHONE, True) in rows  # they manage them: the whole row
        assert conn.execute(
            "update public.profiles set phone = '+32 9 000 00 00', deactivated_at = now() where id = %s"
            " returning id",
            (m1.id,),
        ).fetchall() == [(m1.id,)]
        assert conn.execute("select id from public.profiles where id = %(mb)s", params).fetchall() == []
