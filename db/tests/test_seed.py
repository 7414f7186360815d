"""Synthetic data: valid Belgian details, deterministic worlds, loads that satisfy the schema, the demo world."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator

import bcrypt
import psycopg
import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from db.cli import app as db_app
from db.seed.belgium import (
    enterprise_check_digits,
    enterprise_number,
    is_valid_enterprise_number,
    phone_number,
)
from db.seed.demo import ensure_demo_world
from db.seed.load import SeedError, load_world, verify_integrity
from db.seed.world import ID_RANGE, WorldSpec, build_world
from db.testing import Server

SMALL = WorldSpec(orgs=6, users_per_org=3, tickets=300, seed=7)
SEEDED_TABLES = (
    "public.organizations",
    "auth.users",
    "public.profiles",
    "public.agent_assignments",
    "public.tickets",
    "public.ticket_messages",
)


@pytest.fixture
def other_database(pg_server: Server, template_database: str) -> Iterator[str]:
    """A second fresh copy of the migrated template, for comparing two loads."""
    name = f"nexk_test_seed_other_{id(pg_server)}"
    janitor = pg_server.janitor(name, template_dbname=template_database)
    janitor.init()
    yield pg_server.url_for(name)
    janitor.drop()


def _fingerprints(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"select md5(string_agg(t::text, ',' order by t.id)) from {table} as t"  # noqa: S608 - fixed names
                " where t.id between %s and %s",
                ID_RANGE,
            ).fetchone()[0]
            for table in SEEDED_TABLES
        }


@given(st.integers(min_value=0, max_value=19_999_999))
def test_enterprise_numbers_carry_a_valid_check_number(prefix: int) -> None:
    """For every 8-digit prefix starting 0 or 1: the number is 0xxx.xxx.xxx and its last two digits are
    97 - (prefix mod 97), and it passes the validator."""
    number = enterprise_number(prefix)
    assert re.fullmatch(r"[01]\d{3}\.\d{3}\.\d{3}", number)
    assert int(number.replace(".", "")[8:]) == 97 - prefix % 97 == enterprise_check_digits(prefix)
    assert is_valid_enterprise_number(number)


@given(st.integers(min_value=0, max_value=19_999_999), st.integers(0, 7), st.integers(1, 9))
def test_any_single_digit_typo_in_an_enterprise_number_is_detected(
    prefix: int, position: int, delta: int
) -> None:
    """Changing one of the first eight digits never yields another valid number (10^k is not a multiple of 97)."""
    digits = list(enterprise_number(prefix).replace(".", ""))
    digits[position] = str((int(digits[position]) + delta) % 10)
    typo = "".join(digits)
    assert not is_valid_enterprise_number(f"{typo[:4]}.{typo[4:7]}.{typo[7:]}")


def test_generated_enterprise_numbers_and_phones_pass_the_database_checks(db: psycopg.Connection) -> None:
    world = build_world(WorldSpec(orgs=200, users_per_org=1, tickets=0, seed=3))
    numbers = [row[2] for row in world.organizations]
    assert len(set(numbers)) == len(numbers)
    valid = db.execute(
        "select bool_and(private.is_valid_be_enterprise_number(n)) from unnest(%s::text[]) as n", (numbers,)
    )
    assert valid.fetchone()[0] is True
    import random

    phones = [phone_number(random.Random(i)) for i in range(200)]
    assert all(
        re.fullmatch(r"\+32 [0-9 ]+", p) and re.fullmatch(r"^\+?[0-9 ./()-]{6,25}$", p) for p in phones
    )


def test_same_seed_loads_identical_rows_into_two_fresh_databases(database: str, other_database: str) -> None:
    first = load_world(database, SMALL)
    load_world(other_database, SMALL)
    assert _fingerprints(database) == _fingerprints(other_database)
    assert first.counts["public.tickets"] == 300
    assert first.counts["public.ticket_messages"] == 900


def test_different_seeds_give_different_worlds() -> None:
    one, two = build_world(SMALL), build_world(WorldSpec(orgs=6, users_per_org=3, tickets=300, seed=8))
    assert one.organizations != two.organizations
    assert next(one.ticket_chunks())[0] != next(two.ticket_chunks())[0]


def test_rows_do_not_depend_on_chunk_size() -> None:
    world = build_world(SMALL)
    flat = [row for tickets, _ in world.ticket_chunks(7) for row in tickets]
    assert flat == next(world.ticket_chunks(10_000))[0]


def test_load_creates_exactly_the_requested_world_with_every_role_and_status(database: str) -> None:
    spec = WorldSpec(orgs=8, users_per_org=4, tickets=400, seed=11, messages_per_ticket=4)
    load_world(database, spec)
    with psycopg.connect(database) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        assert one("select count(*) from public.organizations") == 8
        assert one("select count(*) from public.profiles where organization_id is not null") == 32
        assert one("select count(*) from public.tickets") == 400
        assert one("select count(*) from public.ticket_messages") == 1600
        assert (
            one(
                "select count(*) from (select ticket_id from public.ticket_messages group by 1 having count(*) = 4) as x"
            )
            == 400
        )
        roles = {r for (r,) in conn.execute("select distinct role from public.profiles")}
        assert roles == {"client_member", "client_admin", "agent", "admin"}
        assert {s for (s,) in conn.execute("select distinct status from public.tickets")} == {
            "new",
            "open",
            "pending",
            "resolved",
            "closed",
        }
        assert {p for (p,) in conn.execute("select distinct priority from public.tickets")} == {
            "low",
            "normal",
            "high",
            "urgent",
        }
        assert {s for (s,) in conn.execute("select distinct shared_tickets from public.organizations")} == {
            True,
            False,
        }
        assert one("select count(*) from public.ticket_messages where internal") > 0
        assert one("select count(*) from public.agent_assignments") > 0
        assert set(verify_integrity(conn).values()) == {0}


def test_seed_keeps_the_schema_identical(database: str) -> None:
    query = "select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1"
    with psycopg.connect(database) as conn:
        before = conn.execute(query).fetchall()
    load_world(database, SMALL)
    with psycopg.connect(database) as conn:
        assert conn.execute(query).fetchall() == before


def test_seed_refuses_existing_synthetic_rows_unless_replace(database: str) -> None:
    load_world(database, SMALL)
    with pytest.raises(SeedError, match="--replace"):
        load_world(database, SMALL)
    other = WorldSpec(orgs=3, users_per_org=2, tickets=50, seed=99)
    load_world(database, other, replace=True)
    with psycopg.connect(database) as conn:
        assert conn.execute("select count(*) from public.organizations").fetchone()[0] == 3
        assert conn.execute("select count(*) from public.ticket_messages").fetchone()[0] == 150


def test_integrity_check_catches_what_the_switched_off_triggers_would_have_refused(database: str) -> None:
    load_world(database, SMALL)
    with psycopg.connect(database) as conn:
        conn.execute("set session_replication_role = replica")
        # A requester from another organization: tickets_check_people would refuse this row.
        conn.execute(
            "update public.tickets set requester_id = (select p.id from public.profiles as p"
            " where p.organization_id <> public.tickets.organization_id limit 1)"
            " where id = (select t.id from public.tickets as t order by t.id limit 1)"
        )
        with pytest.raises(SeedError, match="requester"):
            verify_integrity(conn)


def test_seed_command_rejects_impossible_arguments_with_a_usage_error() -> None:
    result = CliRunner().invoke(
        db_app, ["seed", "--orgs", "0", "--users-per-org", "2", "--tickets", "5", "--seed", "1"]
    )
    assert result.exit_code == 2
    assert "needs organizations" in result.output
    result = CliRunner().invoke(
        db_app, ["seed", "--orgs", "-1", "--users-per-org", "2", "--tickets", "0", "--seed", "1"]
    )
    assert result.exit_code == 2


def test_demo_world_is_idempotent_and_staff_have_verified_totp(database: str, tmp_path) -> None:
    path = tmp_path / "demo-logins.json"
    first = ensure_demo_world(database, path)
    snapshot = {
        table: _all(database, table)
        for table in (
            "auth.users",
            "auth.mfa_factors",
            "public.profiles",
            "public.tickets",
            "public.ticket_messages",
        )
    }
    second = ensure_demo_world(database, path)
    assert first.created and not second.created
    assert second.logins == first.logins
    assert {table: _all(database, table) for table in snapshot} == snapshot
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {login.role for login in first.logins} == {"client_member", "client_admin", "agent", "admin"}
    with psycopg.connect(database) as conn:
        for login in first.logins:
            stored, confirmed = conn.execute(
                "select encrypted_password, email_confirmed_at from auth.users where email = %s",
                (login.email,),
            ).fetchone()
            assert bcrypt.checkpw(login.password.encode(), stored.encode()) and confirmed is not None
            factors = conn.execute(
                "select f.secret from auth.mfa_factors as f join auth.users as u on u.id = f.user_id"
                " where u.email = %s and f.factor_type = 'totp' and f.status = 'verified'",
                (login.email,),
            ).fetchall()
            if login.role in ("agent", "admin"):
                assert factors == [(login.totp_secret,)]
                assert pyotp.TOTP(login.totp_secret).verify(pyotp.TOTP(login.totp_secret).now())
                assert login.totp_uri.startswith("otpauth://totp/myNexK:")
            else:
                assert factors == [] and login.totp_secret is None
        internal = conn.execute("select count(*) from public.ticket_messages where internal").fetchone()[0]
        shared = {s for (s,) in conn.execute("select shared_tickets from public.organizations")}
        assert internal > 0 and shared == {True, False}


def test_demo_world_survives_alongside_a_seeded_world(database: str, tmp_path) -> None:
    ensure_demo_world(database, tmp_path / "logins.json")
    load_world(database, SMALL)
    load_world(database, SMALL, replace=True)
    with psycopg.connect(database) as conn:
        assert conn.execute("select count(*) from public.organizations").fetchone()[0] == 6 + 3


def _all(url: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select t::text from {table} as t order by 1").fetchall()  # noqa: S608 - fixed names
