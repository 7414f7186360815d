"""Which subprocessor each Pulumi resource type belongs to: the link between the program and the register.

Shared by the inventory (`nexk infra inventory`) and the policy pack ("only registered subprocessors"), so both
answer the question the same way. A type matching no rule belongs to an unknown vendor and is a violation.
"""

from __future__ import annotations

# Type-token prefix -> subprocessor key in compliance/subprocessors.yaml.
SUBPROCESSOR_PREFIXES: dict[str, str] = {
    "vercel:": "vercel",
    "pulumi:providers:vercel": "vercel",
    "pulumi-python:dynamic/supabase:": "supabase",
    "pulumi-python:dynamic/brevo:": "brevo",
}
# Types that process no personal data outside our control: the engine's own, generated values, our components.
LOCAL_PREFIXES: tuple[str, ...] = (
    "pulumi:pulumi:",
    "pulumi:providers:random",
    "pulumi:providers:pulumi-python",
    "random:",
    "nexk:",
)

# The GitHub repository itself (stack `repo`, infra/repo/): the code's home, not a processor of the portal's
# personal data. Outside stack `repo` these types stay unregistered, so the environment stacks hold only the
# portal's subprocessors.
REPOSITORY_PREFIXES: tuple[str, ...] = ("github:", "pulumi:providers:github")
GITHUB_BRANCH_PROTECTION = "github:index/branchProtection:BranchProtection"

SUPABASE_PROJECT = "pulumi-python:dynamic/supabase:Project"
SUPABASE_AUTH = "pulumi-python:dynamic/supabase:AuthSettings"
SUPABASE_SSL = "pulumi-python:dynamic/supabase:SslEnforcement"
SUPABASE_PITR = "pulumi-python:dynamic/supabase:PitrAddon"
SUPABASE_NETWORK = "pulumi-python:dynamic/supabase:NetworkRestrictions"
SUPABASE_POOLER = "pulumi-python:dynamic/supabase:PoolerConnection"
SUPABASE_MIGRATIONS = "pulumi-python:dynamic/supabase:DatabaseMigrations"
SUPABASE_EXTENSION = "pulumi-python:dynamic/supabase:DatabaseExtension"
SUPABASE_ROLE_PASSWORD = "pulumi-python:dynamic/supabase:DatabaseRolePassword"  # noqa: S105 (a type token)
SUPABASE_SYSTEM_USER = "pulumi-python:dynamic/supabase:SystemUser"
VERCEL_PROJECT = "vercel:index/project:Project"
VERCEL_DOMAIN = "vercel:index/projectDomain:ProjectDomain"
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
VERCEL_DNS = "vercel:index/dnsRecord:DnsRecord"
BREVO_DOMAIN = "pulumi-python:dynamic/brevo:SenderDomain"
BREVO_WEBHOOK = "pulumi-python:dynamic/brevo:Webhook"
BREVO_SMTP_RELAY = "pulumi-python:dynamic/brevo:SmtpRelayAccount"


def subprocessor_of(resource_type: str) -> str | None:
    """The register key for a resource type, None for local types, or 'unregistered:<package>'."""
    for prefix, key in SUBPROCESSOR_PREFIXES.items():
        if resource_type.startswith(prefix):
            return key
    if resource_type.startswith(LOCAL_PREFIXES):
        return None
    return "unregistered:" + resource_type.split(":", 1)[0]


def is_repository_type(resource_type: str) -> bool:
    return resource_type.startswith(REPOSITORY_PREFIXES)
