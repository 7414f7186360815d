"""The auditor's view of a stack: every resource, its subprocessor and the settings that matter for GDPR.

Built by running the real program under mocks (`infra.mocks`), so it needs neither credentials nor the CLI
and shows exactly what `pulumi up` would declare from the committed stack file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from infra.mocks import CapturedResource, run_repo_stack, run_stack
from infra.repo import REPO_STACK
from infra.resource_types import is_repository_type, subprocessor_of
from nexk.subprocessors import Register, load_register

# Per type (suffix match): the inputs worth showing, as dotted paths. Secret values are never shown.
RELEVANT: dict[str, tuple[str, ...]] = {
    "vercel:index/project:Project": (
        "name",
        "resourceConfig.functionDefaultRegions",
        "functionFailover",
        "vercelAuthentication.deploymentType",
        "gitRepository.repo",
    ),
    "vercel:index/projectDomain:ProjectDomain": ("domain",),
    "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": ("key", "sensitive", "targets"),
    "vercel:index/dnsRecord:DnsRecord": ("domain", "name", "type"),
    "supabase:Project": ("name", "organization_slug", "region", "instance_size", "environment"),
    "supabase:AuthSettings": (
        "site_url",
        "uri_allow_list",
        "disable_signup",
        "hook_before_user_created_enabled",
        "hook_before_user_created_uri",
        "mailer_autoconfirm",
        "external_anonymous_users_enabled",
        "password_min_length",
        "mfa_totp_enroll_enabled",
        "mfa_totp_verify_enabled",
        "smtp_host",
        "smtp_admin_email",
    ),
    "supabase:SslEnforcement": ("database",),
    "supabase:NetworkRestrictions": ("db_allowed_cidrs", "db_allowed_cidrs_v6"),
    "supabase:PitrAddon": ("variant",),
    "supabase:PoolerConnection": ("pool_mode",),
    "supabase:PublishableKey": ("name",),
    "supabase:DatabaseMigrations": ("migrations", "policies", "functions", "cron_jobs"),
    "supabase:DatabaseExtension": ("extension", "schema"),
    "supabase:SystemUser": ("email", "app_metadata"),
    "brevo:SenderDomain": ("name",),
    "brevo:DomainAuthentication": ("domain", "require_authenticated"),
    "brevo:Sender": ("name", "email"),
    "brevo:TransactionalTemplate": ("template_name", "sender_email", "tag"),
    "brevo:Webhook": ("url", "type", "events"),
    # Read-only (GET /v3/account), so no inputs to show: its login, host and port feed supabase:AuthSettings.
    "brevo:SmtpRelayAccount": (),
    "random:index/randomPassword:RandomPassword": ("length",),
    "random:index/randomId:RandomId": ("byteLength",),
    # Stack `repo`: the merge gate on main.
    "github:index/branchProtection:BranchProtection": (
        "repositoryId",
        "pattern",
        "requiredStatusChecks",
        "enforceAdmins",
        "allowsForcePushes",
        "allowsDeletions",
        "requiredPullRequestReviews",
        "requireConversationResolution",
    ),
}


@dataclass
class InventoryItem:
    type: str
    name: str
    subprocessor: str | None
    country: str | None
    transfer_mechanism: str | None
    settings: dict[str, Any]
    secrets: list[str]


@dataclass
class Inventory:
    stack: str
    resources: list[InventoryItem]
    subprocessors: list[dict[str, Any]]
    missing_secrets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _compact(value: Any) -> Any:
    """Numbers arrive as floats from the engine; show 12, not 12.0. Migration maps shrink to their file names."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict) and value and all(isinstance(v, str) and len(v) == 64 for v in value.values()):
        return sorted(value)
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return value


def _relevant_keys(resource_type: str) -> tuple[str, ...]:
    for suffix, keys in RELEVANT.items():
        if resource_type.endswith(suffix):
            return keys
    return ()


def describe(resource: CapturedResource, register: Register, stack: str | None = None) -> InventoryItem:
    # In stack `repo` the repository's own resources belong to no subprocessor: they hold no personal data.
    # Anywhere else they stay "unregistered", as the policy pack sees them.
    if stack == REPO_STACK and is_repository_type(resource.type):
        key = None
    else:
        key = subprocessor_of(resource.type)
    sub = register.get(key) if key in register.keys else None
    secrets = sorted(k for k in resource.inputs if k != "__provider" and resource.is_secret(k))
    settings = {}
    for path in _relevant_keys(resource.type):
        top = path.split(".", 1)[0]
        if top in secrets:
            continue
        value = resource.get(path)
        if value is not None:
            settings[path] = _compact(value)
    return InventoryItem(
        type=resource.type,
        name=resource.name,
        subprocessor=key,
        country=sub.country if sub else None,
        transfer_mechanism=sub.transfer_mechanism if sub else None,
        settings=settings,
        secrets=secrets,
    )


def inventory(stack: str) -> Inventory:
    register = load_register()
    run = run_repo_stack() if stack == REPO_STACK else run_stack(stack)
    items = [describe(r, register, stack) for r in run.resources]
    used = sorted({i.subprocessor for i in items if i.subprocessor})
    subprocessors = [
        {
            "key": key,
            "legal_entity": register.get(key).legal_entity if key in register.keys else None,
            "country": register.get(key).country if key in register.keys else None,
            "hosting_region": list(register.get(key).hosting_region) if key in register.keys else None,
            "transfer_mechanism": register.get(key).transfer_mechanism if key in register.keys else None,
            "registered": key in register.keys,
        }
        for key in used
    ]
    return Inventory(
        stack=stack, resources=items, subprocessors=subprocessors, missing_secrets=run.missing_secrets
    )
