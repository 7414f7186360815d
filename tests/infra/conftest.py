"""Fixtures for the infrastructure tests: the local vendor API's base URL."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture
def api_url(httpserver: HTTPServer) -> str:
    """Base URL of the local server that plays the vendor API (127.0.0.1, random port)."""
    return httpserver.url_for("").rstrip("/")
