"""Where the providers' HTTP requests go: the vendors themselves, or in-process simulators.

In a real `pulumi up` nothing is routed and every request leaves for the vendor's host. The infra tests and
`nexk infra rehearse` route the vendors' base URLs to in-process simulators (`infra/rehearsal/`) with
`routed_to(...)`; the providers' code path is the same in both cases: they only ever open their HTTP clients
through `requests_session()` (hand-written Management API calls) and `httpx_client()` (vendor SDKs built on
httpx, such as brevo-python).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import requests
from requests.adapters import BaseAdapter

# URL prefix -> requests adapter / httpx transport. Empty outside tests and rehearsals.
_requests_routes: dict[str, BaseAdapter] = {}
_httpx_routes: dict[str, httpx.BaseTransport] = {}


def requests_session() -> requests.Session:
    """A new `requests.Session`, with the simulators mounted when a route is active."""
    session = requests.Session()
    for prefix, adapter in _requests_routes.items():
        session.mount(prefix, adapter)
    return session


def httpx_client(**kwargs: object) -> httpx.Client:
    """A new `httpx.Client` for a vendor SDK, with the simulators mounted when a route is active."""
    if _httpx_routes:
        kwargs["mounts"] = {prefix: transport for prefix, transport in _httpx_routes.items()}
    return httpx.Client(**kwargs)  # type: ignore[arg-type]


@contextmanager
def routed_to(
    requests_routes: Mapping[str, BaseAdapter] | None = None,
    httpx_routes: Mapping[str, httpx.BaseTransport] | None = None,
) -> Iterator[None]:
    """Send requests whose URL starts with a prefix to its simulator while the block runs."""
    saved = dict(_requests_routes), dict(_httpx_routes)
    _requests_routes.update(requests_routes or {})
    _httpx_routes.update(httpx_routes or {})
    try:
        yield
    finally:
        _requests_routes.clear()
        _requests_routes.update(saved[0])
        _httpx_routes.clear()
        _httpx_routes.update(saved[1])
