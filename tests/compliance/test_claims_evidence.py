"""The evidence rule: a claim of the privacy policy is proven only by a test that touched the platform.

The recorder (compliance/evidence_pytest.py) is exercised on a small project of real tests run by a real
pytest, with and without xdist: one reads YAML only, the others make PostgreSQL execute a statement, make a
Starlette app or a portal subprocess serve a request, run the infrastructure program under Pulumi's mocks, or
attempt a TLS handshake.
Its record then feeds the rule (compliance/evidence_record.py) and `nexk compliance evidence`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from compliance.crosscheck import check_traceability
from compliance.evidence_record import EvidenceRecord, check_claims_evidence, read_record
from compliance.register import load
from nexk.paths import REPO_ROOT
from nexk_cli.main import app

SAMPLE = """
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml


@pytest.fixture(scope="module")
def seeded():
    with psycopg.connect(os.environ["EVIDENCE_DSN"]) as conn:
        conn.execute("select 1")
    return "seeded"


def test_reads_the_register():
    assert yaml.safe_load("controller: NexK IT Solutions")["controller"] == "NexK IT Solutions"


def test_reads_a_module_fixture_that_queried_the_database(seeded):
    assert seeded == "seeded"


def test_executes_a_statement():
    with psycopg.connect(os.environ["EVIDENCE_DSN"]) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_fails_after_a_statement():
    with psycopg.connect(os.environ["EVIDENCE_DSN"]) as conn:
        assert conn.execute("select 2").fetchone() == (1,)


@pytest.mark.parametrize("path", ["/", "/privacy"])
def test_gets_a_page_from_an_app(path):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    app = Starlette(routes=[Route(path, lambda request: PlainTextResponse("served"))])
    with TestClient(app) as client:
        assert client.get(path).text == "served"


def test_calls_a_portal_in_a_subprocess():
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("portal_process.py")), str(listening.fileno())],
        pass_fds=(listening.fileno(),),
    )
    try:
        assert httpx.get(f"http://127.0.0.1:{listening.getsockname()[1]}/", timeout=60).text == "served"
    finally:
        child.terminate()
        child.wait(timeout=30)
        listening.close()


def test_attempts_a_tls_handshake_that_the_server_refuses():
    import ssl

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.create_connection(server.getsockname())
        server.accept()[0].close()
        with pytest.raises(OSError):  # ssl.SSLError or a reset: either way the handshake was attempted
            ssl.create_default_context().wrap_socket(client, server_hostname="localhost")


def test_registers_resources_under_pulumi_mocks():
    from infra.mocks import run_stack

    assert run_stack("dev").resources
"""

PORTAL_PROCESS = """
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("served"))])
listening = socket.socket(fileno=int(sys.argv[1]))
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listening])
"""

EXPECTED = {
    "test_sample.py::test_reads_the_register": ([], "passed"),
    "test_sample.py::test_reads_a_module_fixture_that_queried_the_database": (["db"], "passed"),
    "test_sample.py::test_executes_a_statement": (["db"], "passed"),
    "test_sample.py::test_fails_after_a_statement": (["db"], "failed"),
    "test_sample.py::test_gets_a_page_from_an_app[/]": (["app"], "passed"),
    "test_sample.py::test_gets_a_page_from_an_app[/privacy]": (["app"], "passed"),
    "test_sample.py::test_calls_a_portal_in_a_subprocess": (["app"], "passed"),
    "test_sample.py::test_attempts_a_tls_handshake_that_the_server_refuses": (["tls"], "passed"),
    "test_sample.py::test_registers_resources_under_pulumi_mocks": (["infra"], "passed"),
}


PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "compliance.evidence_pytest",
    "--no-cov",
]


def _run_sample(root: Path, dsn: str, *options: str) -> dict[str, Any]:
    root.mkdir()
    (root / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (root / "portal_process.py").write_text(PORTAL_PROCESS, encoding="utf-8")
    done = subprocess.run(
        [*PYTEST, "--rootdir", str(root), *options, str(root)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "EVIDENCE_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "1 failed, 8 passed" in done.stdout, done.stdout + done.stderr
    return json.loads((root / "test-artifacts" / "evidence.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> dict[str, Any]:
    """The record of the sample project run in one process, and run by two xdist workers (their statements go to
    the server's maintenance database: a connection to the template would block other tests' copies of it)."""
    dsn = pg_server.url
    base = tmp_path_factory.mktemp("evidence")
    return {"single": _run_sample(base / "single", dsn), "xdist": _run_sample(base / "xdist", dsn, "-n", "2")}


@pytest.mark.parametrize("run", ["single", "xdist"])
def test_the_record_names_what_each_test_touched_and_how_it_ended(records: dict[str, Any], run: str) -> None:
    found = {node: (entry["kinds"], entry["outcome"]) for node, entry in records[run]["tests"].items()}
    assert found == EXPECTED
    head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert records[run]["commit"] in (head.stdout.strip(), "unknown (not a git checkout)")


def _claims_linking(register_copy: Path, links: dict[str, list[str]]) -> Any:
    path = register_copy / "claims.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for claim in data["claims"]:
        claim["tested_by"] = links.get(claim["key"], ["test_sample.py::test_executes_a_statement"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load(register_copy).claims


def _record(records: dict[str, Any], tmp_path: Path) -> EvidenceRecord:
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(records["xdist"]), encoding="utf-8")
    record = read_record(path)
    assert record is not None
    return record


def test_a_claim_linked_only_to_a_register_reading_test_is_refused_naming_the_claim_the_test_and_the_remedy(
    records: dict[str, Any], register_copy: Path, tmp_path: Path
) -> None:
    claims = _claims_linking(register_copy, {"controller": ["test_sample.py::test_reads_the_register"]})
    (problem,) = check_claims_evidence(claims, _record(records, tmp_path))
    assert problem.startswith(
        "compliance/claims.yaml: claim `controller` is not proven by any behavioural test"
    )
    assert "test_sample.py::test_reads_the_register only reads the register" in problem
    assert "Add to its tested_by a test that exercises the code or database enforcing the claim" in problem


def test_a_claim_linked_to_a_behavioural_test_passes_even_next_to_a_register_reading_one(
    records: dict[str, Any], register_copy: Path, tmp_path: Path
) -> None:
    links = {
        "controller": [
            "test_sample.py::test_reads_the_register",
            "test_sample.py::test_gets_a_page_from_an_app",
        ],
        "complaint": ["test_sample.py::test_calls_a_portal_in_a_subprocess"],
        "subprocessors": ["test_sample.py::test_registers_resources_under_pulumi_mocks"],
        "data_collected": ["test_sample.py::test_reads_a_module_fixture_that_queried_the_database"],
        "security": ["test_sample.py::test_attempts_a_tls_handshake_that_the_server_refuses"],
    }
    assert check_claims_evidence(_claims_linking(register_copy, links), _record(records, tmp_path)) == []


def test_a_security_measure_linked_only_to_a_register_reading_test_is_refused(
    records: dict[str, Any], register_copy: Path, tmp_path: Path
) -> None:
    claims = _claims_linking(register_copy, {})
    path = register_copy / "security_measures.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for measure in data["measures"]:
        measure["tested_by"] = ["test_sample.py::test_attempts_a_tls_handshake_that_the_server_refuses"]
    data["measures"][0]["tested_by"] = ["test_sample.py::test_reads_the_register"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (problem,) = check_claims_evidence(
        claims, _record(records, tmp_path), measures=load(register_copy).security
    )
    key = data["measures"][0]["key"]
    assert problem.startswith(f"compliance/security_measures.yaml: measure `{key}` is not proven")
    assert "test_sample.py::test_reads_the_register only reads the register" in problem


def test_a_claim_whose_only_behavioural_test_failed_or_did_not_run_is_refused(
    records: dict[str, Any], register_copy: Path, tmp_path: Path
) -> None:
    links = {
        "rights": ["test_sample.py::test_fails_after_a_statement"],
        "security": ["test_sample.py::test_not_in_the_run"],
    }
    problems = check_claims_evidence(_claims_linking(register_copy, links), _record(records, tmp_path))
    assert len(problems) == 2
    assert (
        "claim `rights`" in problems[0] and "test_fails_after_a_statement did not pass: fix it" in problems[0]
    )
    assert "claim `security`" in problems[1] and "test_not_in_the_run did not run: run it" in problems[1]


def test_a_record_of_another_commit_is_refused(
    records: dict[str, Any], register_copy: Path, tmp_path: Path
) -> None:
    claims = _claims_linking(register_copy, {})
    problems = check_claims_evidence(claims, _record(records, tmp_path), head="0" * 40)
    assert len(problems) == 1 and "run the tests again (`make test`)" in problems[0]


def test_without_a_record_the_check_says_to_run_the_tests_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compliance", "evidence", "--record", str(tmp_path / "evidence.json")])
    assert result.exit_code != 0
    assert "no evidence record" in result.output and "run the tests first (`make test`" in result.output


def test_an_unknown_test_id_is_refused_naming_the_claim_and_the_id(register_copy: Path) -> None:
    _claims_linking(register_copy, {})
    path = register_copy / "claims.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for claim in data["claims"]:  # every other claim links a test of the repository that exists
        claim["tested_by"] = [
            "tests/compliance/test_claims_evidence.py::test_a_record_of_another_commit_is_refused"
        ]
    data["claims"][0]["tested_by"] = ["tests/app/test_privacy_pages.py::test_that_nobody_wrote"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = check_traceability(load(register_copy))
    assert problems == [
        f"compliance/claims.yaml: claim `{data['claims'][0]['key']}`: test "
        "tests/app/test_privacy_pages.py::test_that_nobody_wrote does not exist (renamed or removed?)"
    ]
