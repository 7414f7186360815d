"""Helpers for the Supabase provider tests: the simulator routed in, its virtual clock in charge of every wait."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from infra.providers.http import using_clock
from infra.providers.transport import routed_to
from infra.rehearsal.supabase_sim import SupabaseSimulator

PROJECT = {
    "name": "mynexk-prod",
    "organization_slug": "nexk-it",
    "region": "eu-central-1",
    "instance_size": "small",
    "db_pass": "s3cret-pass",
    "environment": "prod",
}


@contextmanager
def simulated(sim: SupabaseSimulator) -> Iterator[SupabaseSimulator]:
    """Send the providers' requests to `sim` and let its clock time their waits while the block runs."""
    with routed_to(requests_routes=sim.routes), using_clock(sim.clock):
        yield sim
