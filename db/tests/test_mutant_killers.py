"""The attack catalogue of db/rls/killers.py, run on the real policies as ordinary tests.

These checks kill mutants the isolation suite's random worlds can miss (a deactivated agent who keeps an
assignment row, a DSR or audit row about a deactivated user, column privileges, README §5 structure), so
they also guard the unmutated policies in every `make test`.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from db.rls import killers, report


@pytest.fixture
def world_dsn(database: str) -> Iterator[str]:
    with psycopg.connect(database) as conn:
        killers.build_world(conn)
        conn.commit()
    yield database


@pytest.mark.parametrize("check", list(killers.CHECKS))
def test_the_policies_satisfy_the_attack_catalogue(world_dsn: str, check: str) -> None:
    """Invariant: on the fixed world every identity reads exactly the README §3 rows, every allowed write
    succeeds and every forbidden one is refused, column privileges are README §4's, structure is §5's."""
    found = killers.run_killers(world_dsn, names=(check,))[check]
    if found:
        with psycopg.connect(world_dsn, autocommit=True) as conn:
            tenants = report.killer_tenants(conn, killers.load_world(conn))
        for problem in found:
            report.GRID.flag(*report.killer_cell(problem, check), report.explain_killer(problem, tenants))
    assert found == [], "\n".join(report.explain_killer(p, tenants) for p in found)


def test_deactivated_agent_with_an_assignment_sees_nothing(world_dsn: str) -> None:
    with psycopg.connect(world_dsn, autocommit=True) as conn:
        w = killers.load_world(conn)
        outcome, rows = killers.run_as(
            conn, killers.claims_for(w, "agent_off", "aal2"), "select id from public.agent_assignments"
        )
    assert outcome.code is None and rows == []


def test_deactivated_subject_does_not_see_their_dsr_request(world_dsn: str) -> None:
    with psycopg.connect(world_dsn, autocommit=True) as conn:
        w = killers.load_world(conn)
        outcome, rows = killers.run_as(
            conn, killers.claims_for(w, "member_a3_off", "aal1"), "select id from public.dsr_requests"
        )
    assert outcome.code is None and rows == []
