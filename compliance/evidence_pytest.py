"""Pytest plugin: record, per test, whether its body touched the platform (test-artifacts/evidence.json).

Four probes, each a patched method or two, each costing a set insertion per call:
- `db`: psycopg's `Connection.wait` (sync and async), through which every statement, fetch, COPY and commit
  of every connection goes to the server (the test cluster: tests reach no other PostgreSQL);
- `app`: Starlette's `__call__` for HTTP and WebSocket scopes, i.e. a request the portal app served, whether
  through FastAPI's TestClient, uvicorn in a thread or a browser page; and, for a portal in a subprocess
  (started with a listening socket handed over, tests/app/portal_process.py), an httpx request to that port
  that got a response;
- `infra`: Pulumi's `MockMonitor.RegisterResource`, i.e. a resource the infrastructure program registered
  under mocks (the stack itself does not count);
- `tls`: `ssl.SSLSocket.do_handshake` and `ssl.SSLObject.do_handshake`, i.e. a TLS handshake attempted in the
  test's process, by the platform's clients or by a loopback test server that libpq (C, out of reach of a
  Python probe) talks to: the transport-encryption tests prove their claim by handshakes, refused or not.

A test is credited with what its body touched and what the fixtures it uses touched while they were built
(the infrastructure tests read a module fixture that ran the program under mocks; the portal tests a world
written to a fresh database): a register-only test that asks for no such fixture stays register-only, even in
a module whose other tests use one. Pulumi, Starlette and httpx are patched when first imported (a finder on
`sys.meta_path`), so a run that never loads them does not pay for their import.

Under pytest-xdist each worker attaches what a test touched to the test's call report (a `user_properties`
entry, which xdist already carries to the controller); the controller, or the single process without xdist,
is the only writer of the record, once, at the end of the session. The record is the last run's: a run of a
few tests replaces it with those tests (`nexk compliance evidence` then says which linked tests did not run).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from compliance.evidence_record import KINDS, RECORD, write_record

_PROPERTY = "nexk_evidence"
# What the running test touched; None between tests. Module-level, not a contextvar: the portal serves from
# its own threads (uvicorn, TestClient's portal), the database is reached from the app's pool threads.
_touched: set[str] | None = None
# (fixture name, node id of the scope it was built for) -> what it touched while being built.
_fixture_touches: dict[tuple[str, str], set[str]] = {}
# Loopback ports on which a portal subprocess listens (see _watch_portal_subprocesses).
_portal_ports: set[int] = set()
# Command-line words that start the portal in a subprocess.
PORTAL_ENTRY_POINTS = ("portal_process.py",)


def touched(kind: str) -> None:
    current = _touched
    if current is not None:
        current.add(kind)


# ---------------------------------------------------------------------------------------------- probes
def _probe_psycopg(module: ModuleType) -> None:
    sync_wait = module.Connection.wait

    def wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        touched("db")
        return sync_wait(self, *args, **kwargs)

    async_wait = module.AsyncConnection.wait

    async def await_(self: Any, *args: Any, **kwargs: Any) -> Any:
        touched("db")
        return await async_wait(self, *args, **kwargs)

    module.Connection.wait = wait
    module.AsyncConnection.wait = await_


def _probe_starlette(module: ModuleType) -> None:
    served = module.Starlette.__call__

    async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            touched("app")
        await served(self, scope, receive, send)

    module.Starlette.__call__ = call


def _probe_pulumi_mocks(module: ModuleType) -> None:
    register = module.MockMonitor.RegisterResource

    def register_resource(self: Any, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            touched("infra")
        return register(self, request)

    module.MockMonitor.RegisterResource = register_resource


def _probe_httpx(module: ModuleType) -> None:
    """A request to a portal subprocess (whose own app the probes above cannot see) that got a response."""
    handle = module.HTTPTransport.handle_request

    def handle_request(self: Any, request: Any) -> Any:
        response = handle(self, request)
        if request.url.port in _portal_ports and request.url.host in ("127.0.0.1", "localhost", "::1"):
            touched("app")
        return response

    module.HTTPTransport.handle_request = handle_request


def _watch_portal_subprocesses() -> None:
    """Remember the port of the listening socket handed to a portal subprocess (pass_fds)."""
    start = subprocess.Popen.__init__

    def init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        start(self, args, *rest, **kwargs)
        words = (
            [str(a) for a in args]
            if isinstance(args, Sequence) and not isinstance(args, str)
            else [str(args)]
        )
        if any(w.endswith(PORTAL_ENTRY_POINTS) for w in words):
            for fd in kwargs.get("pass_fds", ()):
                with socket.socket(fileno=os.dup(fd)) as handed:
                    _portal_ports.add(handed.getsockname()[1])

    subprocess.Popen.__init__ = init  # type: ignore[method-assign]


def _probe_ssl(module: ModuleType) -> None:
    for cls in (module.SSLSocket, module.SSLObject):
        handshake = cls.do_handshake

        def do_handshake(self: Any, *args: Any, _handshake: Any = handshake, **kwargs: Any) -> Any:
            touched("tls")
            return _handshake(self, *args, **kwargs)

        cls.do_handshake = do_handshake


PROBES: dict[str, Callable[[ModuleType], None]] = {
    "ssl": _probe_ssl,
    "psycopg": _probe_psycopg,
    "starlette.applications": _probe_starlette,
    "pulumi.runtime.mocks": _probe_pulumi_mocks,
    "httpx": _probe_httpx,
}


class _ProbeOnImport(importlib.abc.MetaPathFinder):
    """Installs a probe right after its module is first imported, so unused libraries are never imported."""

    def __init__(self, pending: dict[str, Callable[[ModuleType], None]]) -> None:
        self.pending = pending

    def find_spec(
        self, name: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in self.pending:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _ProbingLoader(spec.loader, self.pending.pop(name))
                return spec
        return None


class _ProbingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, probe: Callable[[ModuleType], None]) -> None:
        self.loader, self.probe = loader, probe

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.probe(module)


def install_probes() -> None:
    pending = {}
    for name, probe in PROBES.items():
        if name in sys.modules:
            probe(sys.modules[name])
        else:
            pending[name] = probe
    if pending:
        sys.meta_path.insert(0, _ProbeOnImport(pending))
    _watch_portal_subprocesses()


# ---------------------------------------------------------------------------------------------- hooks
_TOUCHED = pytest.StashKey[set[str]]()
_installed = False


def pytest_configure(config: pytest.Config) -> None:
    global _installed
    if not _installed:  # once per process, even when pytest runs in-process more than once (pytester)
        install_probes()
        _installed = True
    config.pluginmanager.register(EvidenceRecorder(config), "nexk-evidence-recorder")


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """What a fixture touched while it was built, kept for every test that uses it (a module's or session's
    fixture is built once, for the first of its tests)."""
    global _touched
    outer, _touched = _touched, set()
    try:
        return (yield)
    finally:
        mine = _touched
        _fixture_touches.setdefault((fixturedef.argname, request.node.nodeid), set()).update(mine)
        _touched = outer
        if outer is not None:  # built on demand inside another fixture or the test: theirs too
            outer.update(mine)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    global _touched
    _touched = set()
    try:
        return (yield)
    finally:
        item.stash[_TOUCHED] = _touched
        _touched = None


def _fixtures_touched(item: pytest.Item) -> set[str]:
    found: set[str] = set()
    scopes = [node.nodeid for node in item.listchain()]
    for name in getattr(item, "fixturenames", ()):
        for scope in scopes:
            found |= _fixture_touches.get((name, scope), set())
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call":
        found = item.stash.get(_TOUCHED, set()) | _fixtures_touched(item)
        report.user_properties.append((_PROPERTY, [k for k in KINDS if k in found]))
    elif report.when == "teardown":  # the test's own fixtures are gone: forget what they touched
        for key in [k for k in _fixture_touches if k[1] == item.nodeid]:
            del _fixture_touches[key]
    return report


class EvidenceRecorder:
    """The writer of the record: the xdist controller, or the single process of a run without xdist."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.writes = not hasattr(config, "workerinput")
        self.results: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.writes:
            return
        if report.when == "call":
            kinds = [str(v) for k, value in report.user_properties if k == _PROPERTY for v in value]  # type: ignore[attr-defined]
            self.results[report.nodeid] = {"kinds": kinds, "outcome": report.outcome}
        elif report.failed or (report.when == "setup" and report.skipped):
            # An error in set-up (so no call) or in teardown: the test proves nothing in this run.
            entry = self.results.setdefault(report.nodeid, {"kinds": []})
            entry["outcome"] = "skipped" if report.skipped else "failed"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.writes or not self.results:
            return
        root = Path(str(self.config.rootpath))
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_record(root / RECORD, commit or "unknown (not a git checkout)", finished, self.results)
