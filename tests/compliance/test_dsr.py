"""Data-subject rights (db/schema/0101-0104, compliance/dsr.py): deadlines, export, rectification, erasure,
restriction, objection, completion with Art. 19 recipients, and refusals of unknown subjects."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from compliance import dsr, dsr_cli
from db import testing_world as make
from db.testing import impersonate, jwt_claims

BRUSSELS = ZoneInfo("Europe/Brussels")

# The erased person's identifiers: distinctive, so any leftover is found by a plain ILIKE.
FIRST, SURNAME = "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.q@quill.example"
PHONE = "+32 470 98 76 54"
TRACES = [FIRST, SURNAME, EMAIL, "470 98 76 54", "470987654", "zephyrine.q"]


class World:
    """Acme (shared tickets) with Zephyrine (the subject), her admin colleague Olga and agent Bartholomew."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        plan = make.sla_plan(conn, make.calendar(conn, "Brussels"), code="std", name="Standard")
        self.org = make.organization(
            conn, "Acme Logistics", plan, contract_start=date(2024, 1, 1), shared_tickets=True
        )
        self.subject = self.person(FIRST, SURNAME, "client_member", EMAIL, PHONE, self.org)
        self.colleague = self.person(
            "Olga", "Vandenberghe", "client_admin", "olga@acme.example", "+32 2 555 01 01", self.org
        )
        self.agent = self.person(
            "Bartholomew", "Quincey", "agent", "bq@nexk.example", "+32 3 555 77 88", None
        )
        make.assign(conn, self.agent, self.org)
        self.files: dict[str, bytes] = {}

    def scalar(self, query: str, params: tuple = ()) -> object:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def person(
        self, first: str, surname: str, role: str, email: str, phone: str, org: uuid.UUID | None
    ) -> uuid.UUID:
        names = {"first_name": first, "surname": surname, "metadata": {"full_name": f"{first} {surname}"}}
        account = {"account_phone": phone.replace(" ", ""), "password_hash": "$2b$10$hash"}
        return make.person(self.conn, email, role, org, phone=phone, **names, **account)

    def ticket(self, requester: uuid.UUID, subject: str, description: str) -> uuid.UUID:
        return make.ticket(
            self.conn, self.org, requester, subject=subject, description=description, assignee_id=self.agent
        )

    def message(self, ticket: uuid.UUID, author: uuid.UUID, body: str, internal: bool = False) -> uuid.UUID:
        return make.message(self.conn, ticket, author, body, internal=internal)

    def attachment(
        self, ticket: uuid.UUID, uploader: uuid.UUID, file_name: str, internal: bool = False
    ) -> str:
        data = f"bytes of {file_name}".encode()
        _, path = make.attachment(
            self.conn,
            ticket,
            self.org,
            uploader,
            file_name=file_name,
            content_type="image/png",
            data=data,
            internal=internal,
        )
        make.stored_object(
            self.conn, path, owner_id=str(uploader), metadata={"mimetype": "image/png", "size": len(data)}
        )
        self.files[path] = data
        return path

    def populate(self) -> None:
        """The subject's name, e-mail and phone everywhere a person could leave them."""
        s, c, a = self.subject, self.colleague, self.agent
        self.own_ticket = self.ticket(
            s, f"{FIRST} {SURNAME} cannot print", f"Reach me at {EMAIL} or 0470 98 76 54. {FIRST}"
        )
        self.message(self.own_ticket, s, f"Hello, {FIRST} here. My number is {PHONE}.")
        self.message(
            self.own_ticket,
            a,
            f"Hi {FIRST}, we are on it. Kind regards, Bartholomew Quincey (bq@nexk.example)",
        )
        self.message(self.own_ticket, a, f"SECRET-NOTE: {FIRST} called from +32470987654", internal=True)
        self.own_file = self.attachment(self.own_ticket, s, f"{FIRST.lower()}-{SURNAME.lower()}.png")
        self.internal_file = self.attachment(self.own_ticket, a, "secret-note-quincey.png", internal=True)

        self.other_ticket = self.ticket(
            c, "Scanner jam", f"{FIRST} {SURNAME} is also affected, ask Olga Vandenberghe"
        )
        self.message(self.other_ticket, c, f"As ZEPHYRINE said ({EMAIL}), it jams. Olga")
        self.message(self.other_ticket, s, "Me too, since Monday.")
        self.colleague_file = self.attachment(self.other_ticket, c, f"from-{FIRST}.png")

        for actor, agent_string in ((s, f"Mozilla/5.0 ({FIRST}'s laptop)"), (c, "Mozilla/5.0")):
            self.conn.execute(
                "insert into public.audit_log (actor_id, action, object_table, ip, user_agent)"
                " values (%s, 'read', 'tickets', '198.51.100.4', %s)",
                (actor, agent_string),
            )
        self.conn.execute(
            "insert into auth.sessions (id, user_id, ip, user_agent) values (%s, %s, '198.51.100.4', %s)",
            (uuid.uuid4(), s, f"{FIRST}'s browser"),
        )
        self.conn.execute(
            "insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, phone)"
            " values (%s, %s, %s, 'phone', 'verified', %s)",
            (uuid.uuid4(), s, f"{FIRST}'s phone", PHONE),
        )


@pytest.fixture
def world(db: psycopg.Connection) -> World:
    built = World(db)
    built.populate()
    return built


def text_columns(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """Every text-like column (text, varchar, citext, jsonb, arrays of text) of every table we hold data in."""
    return conn.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t
            on c.table_schema = t.table_schema and c.table_name = t.table_name
        where
            t.table_type = 'BASE TABLE'
            and c.table_schema in ('public', 'auth', 'storage', 'private')
            and c.udt_name in ('text', 'varchar', 'citext', 'jsonb', 'json', '_text', '_varchar', 'bpchar')
        order by 1, 2, 3
        """
    ).fetchall()


def traces(conn: psycopg.Connection, needles: list[str]) -> list[str]:
    """Where any needle occurs (case-insensitive), as schema.table.column: value."""
    found = []
    patterns = [f"%{needle}%" for needle in needles]
    for schema, table, column in text_columns(conn):
        query = psycopg.sql.SQL("select {col}::text from {tbl} where {col}::text ilike any(%s)").format(
            col=psycopg.sql.Identifier(column), tbl=psycopg.sql.Identifier(schema, table)
        )
        found += [f"{schema}.{table}.{column}: {row[0]}" for row in conn.execute(query, (patterns,))]
    return found


# Deadlines -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "legal", "internal", "due"),
    [
        # A month ending on a shorter month's last day: the legal due date comes first.
        (
            datetime(2027, 1, 31, 10, tzinfo=BRUSSELS),
            datetime(2027, 2, 28, 10, tzinfo=BRUSSELS),
            datetime(2027, 3, 2, 10, tzinfo=BRUSSELS),
            "legal",
        ),
        # A 31-day month: 30 days comes first.
        (
            datetime(2027, 3, 15, 9, tzinfo=BRUSSELS),
            datetime(2027, 4, 15, 9, tzinfo=BRUSSELS),
            datetime(2027, 4, 14, 9, tzinfo=BRUSSELS),
            "internal",
        ),
    ],
)
def test_a_request_is_due_one_calendar_month_or_30_days_after_receipt_whichever_is_earlier(
    world, db, received, legal, internal, due
):
    request = db.execute("select private.dsr_open(%s, 'access', %s)", (world.subject, received)).fetchone()[0]
    row = db.execute(
        "select legal_due_at, internal_due_at, due_at, status from public.dsr_requests where id = %s",
        (request,),
    ).fetchone()
    assert row[0] == legal and row[1] == internal
    assert row[2] == (legal if due == "legal" else internal)
    assert row[3] == "received"
    assert (
        db.execute(
            "select count(*) from public.audit_log where object_table = 'dsr_requests' and object_id = %s",
            (request,),
        ).fetchone()[0]
        == 1
    )


def test_the_queue_lists_open_requests_most_urgent_first(world, db, database):
    late = dsr.open_request(database, world.subject, "access", datetime(2026, 11, 20, tzinfo=UTC))
    early = dsr.open_request(database, EMAIL, "erasure", datetime(2026, 11, 2, tzinfo=UTC))
    closed = dsr.open_request(database, world.colleague, "access", datetime(2026, 10, 1, tzinfo=UTC))
    dsr.complete(database, closed)
    assert [r["id"] for r in dsr.list_requests(database)] == [early, late]
    assert [r["id"] for r in dsr.list_requests(database, include_closed=True)] == [closed, early, late]


# Unknown subjects ------------------------------------------------------------------------------------------


# A fixed unknown id: a random one would make parallel workers collect different test ids.
@pytest.mark.parametrize("ref", ["5c6b4d36-8e7f-4dc3-a6f9-06a266e998f9", "nobody@nowhere.example"])
def test_a_request_about_an_unknown_subject_fails_cleanly_and_is_logged(world, db, database, ref):
    with pytest.raises(dsr.UnknownSubjectError, match="no data subject"):
        dsr.open_request(database, ref, "access")
    events = db.execute(
        "select event_type, outcome, detail ->> 'subject_ref', detail ->> 'type', id from private.dsr_events"
    ).fetchall()
    assert [e[:4] for e in events] == [("refused", "failed", ref, "access")]
    assert db.execute("select count(*) from public.dsr_requests").fetchone()[0] == 0
    assert (
        db.execute(
            "select count(*) from public.audit_log where object_table = 'dsr_events' and object_id = %s",
            (events[0][4],),
        ).fetchone()[0]
        == 1
    )


def test_every_dsr_function_refuses_an_unknown_subject_with_sqlstate_p0002(db):
    nobody = uuid.uuid4()
    calls = [
        ("select private.dsr_open(%s, 'access')", (nobody,)),
        ("select private.dsr_export(%s)", (nobody,)),
        ('select private.dsr_rectify(%s, \'{"surname": "X"}\')', (nobody,)),
        ("select private.dsr_erase(%s)", (nobody,)),
        ("select private.dsr_restrict(%s, true)", (nobody,)),
        ("select private.dsr_object(%s, 'audience_measurement')", (nobody,)),
        ("select * from private.dsr_recipients(%s)", (nobody,)),
        ("select private.dsr_complete(%s)", (nobody,)),
    ]
    for query, params in calls:
        with pytest.raises(psycopg.errors.NoDataFound):
            db.execute(query, params)


def test_the_dsr_functions_are_not_executable_by_the_api_roles(db):
    for role in ("anon", "authenticated"):
        allowed = db.execute(
            "select p.proname from pg_proc as p where p.pronamespace = 'private'::regnamespace"
            " and (p.proname like 'dsr%%' or p.proname in ('erase_person', 'run_retention'))"
            " and has_function_privilege(%s, p.oid, 'execute')",
            (role,),
        ).fetchall()
        assert allowed == []


# Access and portability ------------------------------------------------------------------------------------


def test_the_export_holds_the_persons_data_but_no_internal_note_and_no_other_persons_identity(
    world, database
):
    buffer = io.BytesIO()
    data = dsr.export_zip(database, world.subject, buffer, read_bytes=world.files.get)
    text = json.dumps(data)

    assert data["profile"]["email"] == EMAIL and data["profile"]["phone"] == PHONE
    own = next(t for t in data["tickets"] if t["id"] == str(world.own_ticket))
    assert [m["author"] for m in own["messages"]] == ["you", "NexK agent"]
    assert own["assignee"] == "NexK agent"
    assert "Me too, since Monday." in [m["body"] for m in data["messages_on_other_tickets"]]
    assert [a["storage_path"] for a in data["attachments"]] == [world.own_file]
    assert data["access_log"] and data["sessions"]

    assert "SECRET-NOTE" not in text and "secret-note" not in text
    for other in ("Bartholomew", "Quincey", "bq@nexk.example", "Olga", "Vandenberghe", "olga@acme.example"):
        assert other not in text, other
    assert "[NexK agent]" in text

    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    names = archive.namelist()
    assert "export.json" in names
    attachment = next(n for n in names if n.startswith("attachments/"))
    assert archive.read(attachment) == world.files[world.own_file]
    assert len(names) == 2


def test_an_export_is_journalled_and_audited(world, db, database):
    request = dsr.open_request(database, world.subject, "portability")
    dsr.export(database, world.subject)
    assert db.execute(
        "select event_type from private.dsr_events where request_id = %s order by created_at", (request,)
    ).fetchall() == [("opened",), ("exported",)]
    assert (
        db.execute(
            "select count(*) from public.audit_log where action = 'read' and object_table = 'profiles' and object_id = %s",
            (world.subject,),
        ).fetchone()[0]
        == 1
    )
    assert (
        db.execute("select status from public.dsr_requests where id = %s", (request,)).fetchone()[0]
        == "in_progress"
    )


# Rectification ---------------------------------------------------------------------------------------------


def test_rectification_corrects_the_profile_and_the_login_email_and_journals_field_names_only(
    world, db, database
):
    request = dsr.open_request(database, world.subject, "rectification")
    dsr.rectify(database, world.subject, {"surname": "Quill", "email": "zq@quill.example", "phone": None})
    assert db.execute(
        "select surname, email::text, phone from public.profiles where id = %s", (world.subject,)
    ).fetchone() == ("Quill", "zq@quill.example", None)
    assert (
        db.execute("select email from auth.users where id = %s", (world.subject,)).fetchone()[0]
        == "zq@quill.example"
    )
    detail = db.execute(
        "select detail from private.dsr_events where request_id = %s and event_type = 'rectified'", (request,)
    ).fetchone()[0]
    assert detail == {"fields": ["email", "phone", "surname"]}


def test_rectification_refuses_unknown_fields(world, database):
    with pytest.raises(dsr.DsrError, match="cannot rectify role"):
        dsr.rectify(database, world.subject, {"role": "admin"})


# Restriction -----------------------------------------------------------------------------------------------


def test_a_restricted_person_cannot_change_their_data_through_the_api(world, db, database):
    dsr.restrict(database, world.subject)
    with (
        impersonate(db, jwt_claims(world.subject)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"Art\. 18"),
    ):
        conn.execute("update public.profiles set first_name = 'Z' where id = %s", (world.subject,))
    with (
        impersonate(db, jwt_claims(world.subject)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"Art\. 18"),
    ):
        conn.execute(
            "insert into public.tickets (organization_id, requester_id, subject, description) values (%s, %s, 'New', 'New')",
            (world.org, world.subject),
        )
    with (
        impersonate(db, jwt_claims(world.subject)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"Art\. 18"),
    ):
        conn.execute("update public.tickets set status = 'resolved' where id = %s", (world.own_ticket,))
    # Reading stays possible: restricted data is stored, and the right of access remains.
    with impersonate(db, jwt_claims(world.subject)) as conn:
        assert (
            conn.execute("select count(*) from public.tickets where id = %s", (world.own_ticket,)).fetchone()[
                0
            ]
            == 1
        )


def test_a_restricted_persons_data_is_read_only_for_agents_and_the_owner_too(world, db, database):
    dsr.restrict(database, world.subject)
    with (
        impersonate(db, jwt_claims(world.agent, aal="aal2")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "insert into public.ticket_messages (ticket_id, author_id, body) values (%s, %s, 'Any update?')",
            (world.own_ticket, world.agent),
        )
    for statement in (
        "update public.profiles set phone = null where id = %s",
        "delete from public.profiles where id = %s",
        "update public.tickets set priority = 'high' where requester_id = %s",
        "delete from auth.users where id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=r"Art\. 18"):
            db.execute(statement, (world.subject,))


def test_lifting_a_restriction_makes_the_data_writable_again(world, db, database):
    dsr.restrict(database, world.subject)
    dsr.restrict(database, world.subject, restricted=False)
    db.execute("update public.tickets set priority = 'high' where id = %s", (world.own_ticket,))
    assert (
        db.execute("select restricted_at from public.profiles where id = %s", (world.subject,)).fetchone()[0]
        is None
    )


def test_rectification_of_a_restricted_person_keeps_the_restriction(world, db, database):
    restricted_at = dsr.restrict(database, world.subject)["restricted_at"]
    dsr.rectify(database, world.subject, {"first_name": "Zephy"})
    row = db.execute(
        "select first_name, restricted_at from public.profiles where id = %s", (world.subject,)
    ).fetchone()
    assert (
        row[0] == "Zephy"
        and row[1] is not None
        and row[1].isoformat() == datetime.fromisoformat(restricted_at).isoformat()
    )


# Objection -------------------------------------------------------------------------------------------------


def test_an_objection_is_upheld_for_measurement_reviewed_for_security_and_refused_for_the_contract(
    world, db, database
):
    assert dsr.object_to(database, world.subject, "audience_measurement") == "upheld"
    assert (
        dsr.object_to(database, world.subject, "security_logging", "I do not want my IP logged")
        == "pending_review"
    )
    with pytest.raises(dsr.DsrError, match="cannot be objected to"):
        dsr.object_to(database, world.subject, "support_contract")
    assert db.execute(
        "select private.has_objected(%s, 'audience_measurement'), private.has_objected(%s, 'security_logging')",
        (world.subject, world.subject),
    ).fetchone() == (True, False)


# Erasure ---------------------------------------------------------------------------------------------------


def test_after_erasure_no_trace_of_the_name_email_or_phone_remains_in_any_text_column_of_any_table(
    world, db, database
):
    """Invariant: once a person is erased, none of their identifiers occurs anywhere in public, auth, storage
    or private (every text, varchar, citext, json(b) and text[] column), including where others quoted them."""
    request = dsr.open_request(
        database, world.subject, "erasure", notes=f"{FIRST} {SURNAME} phoned from {PHONE}, wrote from {EMAIL}"
    )
    dsr.object_to(database, world.subject, "audience_measurement", f"I, {FIRST}, object")
    # An earlier attempt, made before the e-mail was known, is journalled with the reference it gave.
    db.execute(
        "select private.dsr_log_failure(%s, 'access', %s)",
        (EMAIL.upper(), f"no data subject matches {EMAIL}"),
    )
    assert len(traces(db, TRACES)) > 15  # the scan sees the world it is about to clear

    result = dsr.erase(database, world.subject)

    assert traces(db, TRACES) == []
    # Their file waits for the storage sweeper, which deletes rows and bytes through Storage (0270).
    assert [r[0] for r in db.execute("select name from private.storage_deletions")] == [world.own_file]
    assert result["request_id"] == str(request)
    assert {r["kind"] for r in result["recipients"]} == {"organization", "internal", "subprocessor"}
    # The account and the profile are gone, not merely anonymised.
    assert result["auth_user_deleted"] is True
    assert db.execute("select count(*) from auth.users where id = %s", (world.subject,)).fetchone()[0] == 0
    assert (
        db.execute("select count(*) from public.profiles where id = %s", (world.subject,)).fetchone()[0] == 0
    )


def placeholder_of(db: psycopg.Connection, org: uuid.UUID | None) -> uuid.UUID:
    rows = db.execute(
        "select p.id from public.profiles as p inner join auth.users as u on p.id = u.id"
        " where u.raw_app_meta_data ->> 'nexk_placeholder' = 'erased_person'"
        " and p.organization_id is not distinct from %s",
        (org,),
    ).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


def test_erasure_deletes_the_auth_user_and_every_reference_to_it_moves_to_the_placeholder(
    world, db, database
):
    """Every foreign key to auth.users or public.profiles (read from the catalog, so a new one is not missed)
    no longer points at the erased id; what the organization keeps points at its "Erased person"."""
    request = dsr.open_request(database, world.subject, "erasure")
    dsr.object_to(database, world.subject, "audience_measurement", "no thanks")
    fks = db.execute(
        "select c.conrelid::regclass::text, a.attname from pg_catalog.pg_constraint as c"
        " inner join pg_catalog.pg_attribute as a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)"
        " where c.contype = 'f' and c.confrelid in ('auth.users'::regclass, 'public.profiles'::regclass)"
    ).fetchall()
    assert len(fks) >= 12

    def references(person: uuid.UUID) -> dict[str, int]:
        counts = {}
        for table, column in fks:
            query = sql.SQL("select count(*) from {} where {} = %s").format(
                sql.SQL(table), sql.Identifier(column)
            )  # table: a regclass name from the catalog, already quoted as needed
            n = db.execute(query, (person,)).fetchone()[0]
            if n:
                counts[f"{table}.{column}"] = n
        return counts

    before = references(world.subject)
    assert {"public.profiles.id", "tickets.requester_id", "ticket_messages.author_id"} <= set(before) or (
        {"profiles.id", "tickets.requester_id", "ticket_messages.author_id"} <= set(before)
    )
    own_messages = before.get("ticket_messages.author_id") or before["public.ticket_messages.author_id"]

    dsr.erase(database, world.subject)

    assert references(world.subject) == {}
    placeholder = placeholder_of(db, world.org)
    kept = references(placeholder)
    assert kept.get("tickets.requester_id", kept.get("public.tickets.requester_id")) == 1
    assert kept.get("ticket_messages.author_id", kept.get("public.ticket_messages.author_id")) == own_messages
    assert db.execute(
        "select subject_id, subject_email::text, received_at is not null, due_at is not null"
        " from public.dsr_requests where id = %s",
        (request,),
    ).fetchone() == (placeholder, f"erased-{world.subject}@erased.invalid", True, True)
    # The placeholder can never act: no e-mail, no password, banned, and a stranger to the policies.
    assert db.execute(
        "select u.email, u.phone, u.encrypted_password, u.banned_until = 'infinity',"
        " p.first_name, p.surname, p.deactivated_at is not null, p.erased_at is not null, p.role"
        " from auth.users as u inner join public.profiles as p on p.id = u.id where u.id = %s",
        (placeholder,),
    ).fetchone() == (None, None, None, True, "Erased", "person", True, True, "client_member")
    with impersonate(db, jwt_claims(placeholder)):
        assert db.execute("select private.current_app_role()").fetchone()[0] is None
        assert db.execute("select count(*) from public.tickets").fetchone()[0] == 0
    # A second person of the same organization reuses the placeholder; staff get the staff placeholder.
    dsr.erase(database, world.colleague)
    assert placeholder_of(db, world.org) == placeholder
    dsr.erase(database, world.agent)
    staff = placeholder_of(db, None)
    assert db.execute("select count(*) from public.tickets where assignee_id is not null").fetchone()[0] == 0
    assert (
        db.execute("select count(*) from public.ticket_messages where author_id = %s", (staff,)).fetchone()[0]
        >= 1
    )
    assert (
        db.execute(
            "select count(*) from auth.users where id in (%s, %s)", (world.colleague, world.agent)
        ).fetchone()[0]
        == 0
    )


def test_erasure_keeps_the_organizations_tickets_and_other_peoples_messages_in_anonymised_form(
    world, db, database
):
    dsr.erase(database, world.subject)
    assert db.execute("select subject from public.tickets where id = %s", (world.own_ticket,)).fetchone()[
        0
    ] == ("[erased] cannot print")
    bodies = [
        r[0]
        for r in db.execute(
            "select body from public.ticket_messages where ticket_id = %s order by created_at",
            (world.other_ticket,),
        )
    ]
    assert bodies == ["As [erased] said ([erased]), it jams. Olga", "Me too, since Monday."]
    # The person's profile and auth user are deleted; their ticket now belongs to the "Erased person".
    assert (
        db.execute("select count(*) from public.profiles where id = %s", (world.subject,)).fetchone()[0] == 0
    )
    assert db.execute("select count(*) from auth.users where id = %s", (world.subject,)).fetchone()[0] == 0
    placeholder = placeholder_of(db, world.org)
    assert (
        db.execute("select requester_id from public.tickets where id = %s", (world.own_ticket,)).fetchone()[0]
        == placeholder
    )
    user = db.execute(
        "select email, phone, encrypted_password, raw_user_meta_data, banned_until = 'infinity',"
        " raw_app_meta_data ->> 'nexk_placeholder' from auth.users where id = %s",
        (placeholder,),
    ).fetchone()
    assert user == (None, None, None, {}, True, "erased_person")
    assert (
        db.execute(
            "select count(*) from public.attachments where uploaded_by = %s", (world.subject,)
        ).fetchone()[0]
        == 0
    )
    # Their object is queued for the storage sweeper; nobody else can see it any more (no attachment row).
    assert db.execute(
        "select reason from private.storage_deletions where name = %s", (world.own_file,)
    ).fetchone() == ("erasure",)
    # Colleagues' and agents' files stay (their names scrubbed), and the immutability guards are back on.
    assert (
        db.execute(
            "select file_name from public.attachments where storage_path = %s", (world.colleague_file,)
        ).fetchone()[0]
        == "from-[erased].png"
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="immutable"):
        db.execute("update public.ticket_messages set body = 'x'")


def test_an_erased_subject_cannot_be_exported_and_a_second_erasure_changes_nothing(world, db, database):
    dsr.erase(database, world.subject)
    tickets = db.execute("select id, requester_id, subject from public.tickets order by id").fetchall()
    # The person no longer exists: there is nothing left to erase or export.
    with pytest.raises(dsr.UnknownSubjectError):
        dsr.erase(database, world.subject)
    with pytest.raises(dsr.UnknownSubjectError):
        dsr.export(database, world.subject)
    assert (
        db.execute("select id, requester_id, subject from public.tickets order by id").fetchall() == tickets
    )
    # The placeholder itself is never erased again.
    placeholder = placeholder_of(db, world.org)
    assert db.execute("select private.erase_person(%s, 'test')", (placeholder,)).fetchone()[0] == {
        "already_erased": True,
        "storage_paths": [],
    }


# Completion and Art. 19 -----------------------------------------------------------------------------------


def test_completing_a_request_stores_the_completion_date_and_the_recipients_to_inform(world, db, database):
    request = dsr.open_request(database, world.subject, "restriction")
    dsr.restrict(database, world.subject)
    result = dsr.complete(database, request)
    assert result["status"] == "completed" and result["on_time"] is True
    recipients = {r["recipient"]: r["kind"] for r in result["recipients"]}
    assert recipients["Acme Logistics (client organization)"] == "organization"
    assert recipients["NexK support agents assigned to Acme Logistics"] == "internal"
    assert any(name.startswith("Brevo") or "Brevo" in name for name in recipients)
    row = db.execute(
        "select completed_at, recipients from public.dsr_requests where id = %s", (request,)
    ).fetchone()
    assert row[0] is not None and row[1] == result["recipients"]
    with pytest.raises(dsr.DsrError, match="already closed"):
        dsr.complete(database, request)


def test_recipients_name_organizations_and_vendors_never_people(world, database):
    text = json.dumps([vars(r) for r in dsr.recipients(database, world.subject)])
    assert "Olga" not in text and "Bartholomew" not in text
    assert "Supabase" in text and "Vercel" in text


def test_the_cli_refuses_an_unknown_subject_with_a_message_that_says_what_to_check(db, database, monkeypatch):
    monkeypatch.setenv("NEXK_DATABASE_URL", database)
    result = CliRunner().invoke(dsr_cli.app, ["open", "nobody@nowhere.example", "access"])
    assert isinstance(result.exception, dsr.UnknownSubjectError)
    assert "no data subject matches nobody@nowhere.example" in str(result.exception)
    assert db.execute("select count(*) from private.dsr_events where outcome = 'failed'").fetchone()[0] == 1
