"""Every Supabase call the providers make is an operation of Supabase's published contract.

The contracts are trimmed copies of the Management API's OpenAPI document (as vendored by the Supabase CLI) and
of GoTrue's admin API (supabase/auth), in infra/rehearsal/contracts/ with their source commits. The vendor-call
record `test-artifacts/vendor-calls.jsonl` is checked against them line by line: method and path template,
required and undeclared fields, query parameters.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from infra_helpers import configure
from supabase_helpers import PROJECT, simulated

from infra.providers.supabase import (
    AuthSettingsProvider,
    NetworkRestrictionsProvider,
    PitrAddonProvider,
    PoolerConnectionProvider,
    PostgrestSettingsProvider,
    ProjectProvider,
    PublishableKeyProvider,
    SslEnforcementProvider,
)
from infra.providers.supabase_auth_admin import SystemUserProvider
from infra.rehearsal import vendor_calls
from infra.rehearsal.openapi_contract import MANAGEMENT_API, check_call, check_recorded_calls, load_operations
from infra.rehearsal.supabase_sim import SupabaseSimulator


def lifecycle(sim: SupabaseSimulator) -> None:
    """Create, refresh, change and destroy one project's worth of every Supabase resource."""
    project = configure(ProjectProvider()).create(dict(PROJECT))
    ref = project.id
    resources = [
        (SslEnforcementProvider(), {"project_ref": ref, "database": True}),
        (
            NetworkRestrictionsProvider(),
            {"project_ref": ref, "db_allowed_cidrs": ["0.0.0.0/0"], "db_allowed_cidrs_v6": ["::/0"]},
        ),
        (PitrAddonProvider(), {"project_ref": ref, "variant": "pitr_7"}),
        (
            PoolerConnectionProvider(),
            {"project_ref": ref, "db_pass": "s3cret-pass", "pool_mode": "transaction"},
        ),
        (PublishableKeyProvider(), {"project_ref": ref, "name": "portal"}),
        (
            PostgrestSettingsProvider(),
            {
                "project_ref": ref,
                "db_schema": ["public"],
                "db_extra_search_path": ["public"],
                "max_rows": 1000,
            },
        ),
        (
            AuthSettingsProvider(),
            {"project_ref": ref, "site_url": "https://my.nexk-it.com", "rate_limit_email_sent": 60},
        ),
        (
            SystemUserProvider(),
            {"project_ref": ref, "email": "sweeper@my.nexk-it.com", "app_metadata": {"nexk_system": "s"}},
        ),
    ]
    created = []
    for provider, props in resources:
        configure(provider)
        result = provider.create(props)
        provider.read(result.id, {**props, **result.outs})
        created.append((provider, result))
    sim.dashboard_resize(ref, "medium")
    projects = configure(ProjectProvider())
    drifted = projects.read(ref, dict(project.outs))
    projects.update(
        ref, drifted.outs, {**dict(project.outs), "instance_size": "small", "db_pass": "n3w-pass"}
    )
    for provider, result in reversed(created):
        provider.delete(result.id, dict(result.outs))
    projects.delete(ref, dict(project.outs))


def test_a_whole_lifecycle_makes_only_calls_the_contract_documents() -> None:
    sim = SupabaseSimulator()
    with simulated(sim):
        lifecycle(sim)

    statuses = Counter(call.status for call in sim.calls)
    assert set(statuses) <= {200, 201}, statuses  # the simulator answered 400 to nothing: no invented field
    operations = {
        (call.method, call.path) for call in sim.calls if call.vendor == "supabase"
    }  # concrete paths, many operations
    assert len([c for c in sim.calls if c.vendor == "supabase"]) >= 20
    assert len(operations) >= 15


def test_every_supabase_and_gotrue_call_in_the_record_matches_the_published_contract() -> None:
    sim = SupabaseSimulator()
    with simulated(sim):
        lifecycle(sim)
    path = vendor_calls.log_path()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    supabase = [line for line in lines if line["vendor"] == "supabase"]
    assert len(supabase) >= 20
    assert all(line["url"].startswith("https://api.supabase.com/v1/") for line in supabase)
    assert check_recorded_calls(lines) == []


@pytest.mark.parametrize(
    ("method", "url", "body", "problem"),
    [
        ("GET", "https://api.supabase.com/v1/projects/abcdefghijklmnopqrst/settings", None, "no operation"),
        (
            "POST",
            "https://api.supabase.com/v1/projects",
            {"name": "x", "db_pass": "p"},
            "organization_slug is required",
        ),
        (
            "POST",
            "https://api.supabase.com/v1/projects",
            {"name": "x", "db_pass": "p", "organization_slug": "o", "plan_tier": "pro"},
            "plan_tier is not a field",
        ),
        (
            "GET",
            "https://api.supabase.com/v1/projects/abcdefghijklmnopqrst/health",
            None,
            "'services' is required",
        ),
        (
            "PATCH",
            "https://api.supabase.com/v1/projects/abcdefghijklmnopqrst/billing/addons",
            {"addon_type": "compute_instance", "addon_variant": "ci_nano"},
            "matches none of the allowed forms",
        ),
    ],
)
def test_the_contract_check_catches_invented_operations_fields_and_values(
    method: str, url: str, body: object, problem: str
) -> None:
    problems = check_call("supabase", method, url, body)

    assert problems and problem in " ".join(problems)


def test_the_vendored_contract_names_its_source_commit_and_holds_the_operations_we_call() -> None:
    from infra.rehearsal.openapi_contract import CONTRACTS

    document = json.loads((CONTRACTS / MANAGEMENT_API).read_text(encoding="utf-8"))
    ids = {op.operation_id for op in load_operations(MANAGEMENT_API)}

    assert document["_source"]["repository"] == "github.com/supabase/cli"
    assert len(document["_source"]["commit"]) == 40
    assert {"v1-create-a-project", "v1-get-services-health", "v1-update-ssl-enforcement-config"} <= ids
