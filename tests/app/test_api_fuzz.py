"""Schemathesis over the OpenAPI document: generated (valid and invalid) calls never get a 5xx, and every
documented response matches its schema. Same RLS path as production: a client's and an agent's token."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_testkit import World, bearer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance


def test_generated_api_calls_never_get_a_server_error(portal: TestClient, world: World) -> None:
    """Invariant: for any request the schema allows (and many it does not), the API answers below 500."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", portal.app)
    tokens = [bearer(world.people["member_a"]), bearer(world.people["agent"], "aal2")]
    known = {"ticket_id": str(world.tickets["a1"])}
    strategies = [
        schema.as_strategy(generation_mode=mode, headers=headers, path_parameters=params)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        for headers in tokens
        for params in (known, None)
    ]

    seen: set[int] = set()

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=st.one_of(strategies))
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
        seen.add(response.status_code // 100)

    run()
    assert seen == {2, 4}, f"the fuzzing should reach both successful and refused calls, saw {seen}"
