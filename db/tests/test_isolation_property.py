"""The differential isolation property: the database answers every identity exactly as the spec's model does."""

from __future__ import annotations

import random
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.rls.probe import check_world, exposed_relations
from db.rls.report import GRID
from db.rls.worlds import RandomChooser, worlds

# Every identity's reads are probed in every world; the writes of this many identities (Hypothesis picks
# which, and their targets) keep 200 worlds within the CI budget. Two connections use both cores.
WRITERS_PER_WORLD = 2
CONNECTIONS = 2


@pytest.fixture(scope="module")
def owners(pg_server, template_database) -> Iterator[list[psycopg.Connection]]:
    """One migrated database for the whole module; every example loads its world in transactions that are
    rolled back, so examples never see each other (far cheaper than a database per example)."""
    janitor = pg_server.janitor(f"nexk_iso_{id(pg_server)}", template_dbname=template_database)
    janitor.init()
    conns = [psycopg.connect(pg_server.url_for(janitor.dbname), autocommit=True) for _ in range(CONNECTIONS)]
    try:
        yield conns
    finally:
        for conn in conns:
            conn.close()
        janitor.drop()


# A world is dozens of draws by nature (large base example); the profile decides the number of examples.
@settings(suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow])
@given(world=worlds(), plan_seed=st.integers(0, 2**32 - 1))
def test_every_identity_reads_and_writes_exactly_what_the_spec_allows(owners, world, plan_seed):
    """Invariant: for every generated world and every identity (anon, strangers, anonymous sign-ins,
    deactivated and erased profiles, clients of shared and unshared organizations, agents and admins with and
    without MFA), the rows the database returns for SELECT on every table and view of the API schemas equal
    the model's (db/rls/model.py, i.e. db/policies/README.md); and every write attempt (INSERT/UPDATE/DELETE
    with RETURNING, ON CONFLICT, moving a row to another organization, forged requester/author/uploader, own
    role or organization escalation) succeeds exactly when the model allows it and then changes exactly its
    target, and when denied raises or changes nothing (re-read as the owner)."""
    result = check_world(
        owners,
        world,
        RandomChooser(random.Random(plan_seed)),  # which writers and targets: a seed, cheap to draw
        relations=exposed_relations(owners[0]),
        writers=WRITERS_PER_WORLD,
        grid=GRID,  # the run's identity x table x command grid, for the job summary
    )
    assert not result.violations, "\n".join(result.explanations)
