"""Fixtures for the infrastructure tests: the local vendor API's base URL, a fresh vendor-call record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from infra.rehearsal import vendor_calls
from infra.rehearsal.contract_check import read_record, violations


@pytest.fixture(scope="session", autouse=True)
def vendor_call_record() -> Iterator[None]:
    """Each run of tests/infra starts test-artifacts/vendor-calls.jsonl anew (the simulators append to it);
    at the end every line in it must be an operation of its vendor's contract, or the run fails."""
    path = vendor_calls.log_path()
    path.unlink(missing_ok=True)
    yield
    problems = violations(read_record(path))
    assert not problems, f"{len(problems)} recorded vendor calls break the vendors' contracts:\n" + "\n".join(
        problems[:50]
    )


@pytest.fixture
def api_url(httpserver: HTTPServer) -> str:
    """Base URL of the local server that plays the vendor API (127.0.0.1, random port)."""
    return httpserver.url_for("").rstrip("/")
