"""checkov, offline: the repository passes, and each custom check fails on a deliberate violation."""

from __future__ import annotations

import json
import shutil

import pytest
from register_edits import edit

from compliance.checkov_run import CUSTOM_CHECKS, CheckovResult, export_openapi, run
from nexk.paths import REPO_ROOT


@pytest.fixture(scope="session")
def repository_scan() -> CheckovResult:
    export_openapi()
    return run()


@pytest.fixture(scope="module")
def violations(tmp_path_factory: pytest.TempPathFactory) -> CheckovResult:
    """One checkov run over a folder of deliberately bad files (one per custom check)."""
    root = tmp_path_factory.mktemp("violations")
    region = root / "region" / "Pulumi.prod.yaml"
    region.parent.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.prod.yaml", region)
    edit(region, "region: eu-central-1", "region: us-east-1")
    secret = root / "secret" / "Pulumi.prod.yaml"
    secret.parent.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.prod.yaml", secret)
    key = "xkeysib-" + "0f3a" * 16  # built at run time: the repository's own secrets scan must not see it
    edit(secret, "  nexk:dns:", f"  nexk:brevoApiKey: {key}\n  nexk:dns:")
    (root / "subprocessors.yaml").write_text(
        "subprocessors:\n"
        "  - {key: acme, name: Acme Analytics, country: US, transfer_mechanism: none}\n"
        "  - {key: ovh, name: OVH, country: FR, transfer_mechanism: none}\n",
        encoding="utf-8",
    )
    vercel = json.loads((REPO_ROOT / "vercel.json").read_text(encoding="utf-8"))
    vercel["headers"][0]["headers"] = [
        h
        for h in vercel["headers"][0]["headers"]
        if h["key"] not in {"Content-Security-Policy", "Strict-Transport-Security"}
    ]
    (root / "portal").mkdir()
    (root / "portal" / "vercel.json").write_text(json.dumps(vercel), encoding="utf-8")
    return run(root, frameworks=("yaml", "json"), all_secret_files=False)


def failures(result: CheckovResult, check_id: str) -> list[str]:
    return [f"{f.file}:{f.lines[0]}" for f in result.failed if f.check_id == check_id]


def test_the_repository_passes_checkov_with_the_custom_checks(repository_scan: CheckovResult) -> None:
    assert set(repository_scan.frameworks) >= {"yaml", "json", "secrets", "github_actions", "openapi"}
    assert [c for c in CUSTOM_CHECKS if not repository_scan.ran(c)] == []  # none failed to load
    assert [str(f) for f in repository_scan.failed] == []


def test_the_repository_vercel_config_passes_the_security_headers_check(
    repository_scan: CheckovResult,
) -> None:
    assert any(f.check_id == "CKV_NEXK_4" and f.file == "vercel.json" for f in repository_scan.passed)


def test_a_stack_file_with_supabase_in_us_east_1_fails_the_region_check(violations: CheckovResult) -> None:
    assert failures(violations, "CKV_NEXK_1") == ["region/Pulumi.prod.yaml:13"]  # the nexk:supabase block


def test_a_stack_file_with_a_plain_text_secret_fails_the_secrets_check(violations: CheckovResult) -> None:
    assert [f.split(":")[0] for f in failures(violations, "CKV_NEXK_2")] == ["secret/Pulumi.prod.yaml"]


def test_a_subprocessor_in_the_usa_without_scc_fails_the_transfer_check(violations: CheckovResult) -> None:
    assert failures(violations, "CKV_NEXK_3") == ["subprocessors.yaml:2"]
    assert any(f.check_id == "CKV_NEXK_3" and f.lines[0] == 3 for f in violations.passed)  # OVH, France


def test_a_vercel_config_without_csp_or_hsts_fails_naming_the_missing_headers(
    violations: CheckovResult,
) -> None:
    assert [f.split(":")[0] for f in failures(violations, "CKV_NEXK_4")] == ["portal/vercel.json"]
