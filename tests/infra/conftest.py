"""Fixtures for the infrastructure tests: the local vendor API's base URL, a fresh vendor-call record."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from infra.rehearsal import vendor_calls


@pytest.fixture(scope="session", autouse=True)
def fresh_vendor_call_record() -> None:
    """Each run of tests/infra starts test-artifacts/vendor-calls.jsonl anew (the simulators append to it)."""
    vendor_calls.log_path().unlink(missing_ok=True)


@pytest.fixture
def api_url(httpserver: HTTPServer) -> str:
    """Base URL of the local server that plays the vendor API (127.0.0.1, random port)."""
    return httpserver.url_for("").rstrip("/")
