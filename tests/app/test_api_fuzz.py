"""Schemathesis over the OpenAPI document, with every check it has, as a client, an agent and anonymous.

The run is schemathesis's own engine (what `schemathesis run` drives): the coverage phase (boundary and
invalid values of every field, undeclared methods, missing auth), the fuzzing phase in positive and negative
generation, and the stateful phase over the links it infers (a created ticket's id feeds the operations on
`/api/tickets/{ticket_id}`). Every built-in check is on: no 5xx, status codes, content types, headers and
bodies as documented, invalid data refused, valid data accepted, `Allow` on 405, auth not ignored, ...
Same RLS path as production: tokens of the test world's people. A fixed seed and a bounded number of
examples keep it reproducible and about ten seconds per identity.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import schemathesis
from fastapi.testclient import TestClient
from portal_testkit import World, bearer
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

MAX_EXAMPLES = 10
OPERATIONS = {
    "GET /api/tickets",
    "POST /api/tickets",
    "GET /api/tickets/{ticket_id}",
    "PATCH /api/tickets/{ticket_id}",
    "GET /api/tickets/{ticket_id}/messages",
    "POST /api/tickets/{ticket_id}/messages",
}


@dataclass
class Run:
    seconds: float = 0.0
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Status codes answered to each operation's own method (not to the undeclared methods the coverage tries).
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def figures(self, who: str) -> str:
        operations = len(self.statuses)
        return f"schemathesis as {who}: {operations} operations, {self.cases} cases, {self.seconds:.1f} s"


def _schemathesis(portal: TestClient, headers: dict[str, str], tickets: list[str] | None = None) -> Run:
    """One run with all phases and checks; `tickets`: ids to use for half the `ticket_id`s drawn (the others
    are generated), for a caller that cannot create a ticket for the stateful phase to follow."""
    known = {"dictionaries": {"tickets": {"values": tickets}}} if tickets else {}
    config = SchemathesisConfig.from_dict(
        known
        | {
            "seed": 20261204,
            "workers": 1,
            "continue-on-failure": True,
            "headers": headers,
            "checks": {"enabled": True},
            "parameters": {"path.ticket_id": {"dictionary": "tickets", "probability": 0.5}}
            if tickets
            else {},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        }
    )
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", portal.app, config=config)
    run, started = Run(), time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(str(getattr(event, "value", None) or getattr(event, "exception", event)))
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        run.cases += len(recorder.cases)
        for case_id, node in recorder.cases.items():
            interaction = recorder.interactions.get(case_id)
            operation = node.value.operation
            answered = interaction is not None and interaction.response is not None
            if answered and interaction.request.method.upper() == operation.method.upper():
                run.statuses[operation.label].add(interaction.response.status_code)
        for checks in recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    info = check.failure_info
                    run.failures.append(
                        f"[{event.phase.value}] {check.name}: {info.failure.message}\n{info.code_sample}"
                    )
    run.seconds = time.monotonic() - started
    return run


def _assert_clean(run: Run) -> None:
    assert run.errors == []
    assert run.failures == [], "\n\n".join(dict.fromkeys(run.failures))
    assert set(run.statuses) == OPERATIONS


def test_schemathesis_finds_nothing_as_a_client(portal: TestClient, world: World) -> None:
    """Invariant: every check of schemathesis passes for a client member's token, and the calls both succeed
    and get refused (the run reaches past validation and the access rules)."""
    run = _schemathesis(portal, bearer(world.people["member_a"]))
    print(run.figures("a client"))
    _assert_clean(run)
    assert all(any(s < 300 for s in codes) for codes in run.statuses.values()), run.statuses
    assert {403, 404, 422} <= set().union(*run.statuses.values())


def test_schemathesis_finds_nothing_as_an_agent(portal: TestClient, world: World) -> None:
    """Invariant: every check passes for an agent's aal2 token; every operation succeeds at least once, but
    opening a ticket, which is for client staff (403)."""
    tickets = [str(world.tickets["a1"]), str(world.tickets["a2"])]
    run = _schemathesis(portal, bearer(world.people["agent"], "aal2"), tickets)
    print(run.figures("an agent"))
    _assert_clean(run)
    succeeded = {operation for operation, codes in run.statuses.items() if any(s < 300 for s in codes)}
    assert succeeded == OPERATIONS - {"POST /api/tickets"}, run.statuses
    assert 403 in run.statuses["POST /api/tickets"]


def test_schemathesis_anonymous_gets_401_from_every_operation(portal: TestClient) -> None:
    """Invariant: without a token every operation answers 401 (with the documented body and
    `WWW-Authenticate`, which the checks compare with the document), whatever else the request holds."""
    run = _schemathesis(portal, {})
    print(run.figures("anonymous"))
    _assert_clean(run)
    assert run.statuses == {operation: {401} for operation in OPERATIONS}
