"""The myNexK CrossGuard policies: what `pulumi up --policy-pack infra/policy` refuses to deploy.

Every policy is MANDATORY and states its rule in words. The register (compliance/subprocessors.yaml) is the
authority for regions and vendors, so the pack changes only when the register does.

This module only builds policies; `__main__.py` wraps them in a PolicyPack (which starts a gRPC server and
blocks), and the tests call the validators directly with the resources the program declared under mocks.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.repo import REPO_STACK
from infra.repo.workflow import isolation_gate, workflow_mismatches
from infra.resource_types import (
    GITHUB_BRANCH_PROTECTION,
    SUPABASE_AUTH,
    SUPABASE_EXTENSION,
    SUPABASE_MIGRATIONS,
    SUPABASE_PITR,
    SUPABASE_PROJECT,
    SUPABASE_SSL,
    VERCEL_ENV,
    VERCEL_PROJECT,
    is_repository_type,
    subprocessor_of,
)
from nexk import cron_jobs
from nexk.portal_env import PORTAL_DATABASE_URL
from nexk.portal_login import PORTAL_LOGIN
from nexk.subprocessors import Register

MANDATORY = EnforcementLevel.MANDATORY
# Vercel regions inside the EU (Frankfurt, Paris, Dublin, Stockholm). London (lhr1) is not in the EU.
VERCEL_EU_REGIONS = frozenset({"fra1", "cdg1", "dub1", "arn1"})
PROTECTED_PREVIEWS = frozenset(
    {"standard_protection_new", "standard_protection", "all_deployments", "only_preview_deployments"}
)
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PRIVATE|DATABASE_URL|SERVICE_ROLE|API_KEY|SMTP_KEY")
# Supabase keys that bypass RLS: a secret key, or a legacy JWT whose role is service_role.
RLS_BYPASS_NAME = re.compile(r"SERVICE_ROLE|SUPABASE_SECRET")
SUPABASE_SECRET_KEY_PREFIX = "sb_secret_"  # noqa: S105 (a key prefix, not a key)
MIN_PASSWORD_LENGTH = 12
# The invitation gate (db/schema/0280_invitations.sql), as infra/supabase_platform.py configures it.
BEFORE_USER_CREATED_HOOK_URI = "pg-functions://postgres/private/hook_before_user_created"
PRODUCTION_STACK = "prod"
# The Data API's settings (infra/providers/supabase.py, PostgrestSettings) and the schemas it must never expose:
# `private` holds the security-definer helpers and the auth hook (db/policies/README.md).
SUPABASE_POSTGREST = "pulumi-python:dynamic/supabase:PostgrestSettings"
NEVER_EXPOSED_SCHEMAS = frozenset({"private"})
# Database logins no Vercel variable may carry: each can become a role that bypasses RLS (the owner `postgres` is
# BYPASSRLS on Supabase, PostgREST's `authenticator` is granted service_role) or is one (db/README.md, "Roles").
RLS_BYPASS_LOGINS = frozenset({"postgres", "authenticator", "service_role", "supabase_admin"})


def prop(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def jwt_role(value: str) -> str | None:
    """The `role` claim of a JWT (not verified: only its shape matters here), or None for anything else."""
    parts = value.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        return None
    role = claims.get("role") if isinstance(claims, dict) else None
    return role if isinstance(role, str) else None


def bypasses_rls(key: str, value: str) -> bool:
    """Whether a variable named `key` holding `value` carries a Supabase key that bypasses RLS."""
    return (
        bool(RLS_BYPASS_NAME.search(key))
        or value.startswith(SUPABASE_SECRET_KEY_PREFIX)
        or jwt_role(value) == "service_role"
    )


def database_login(value: str) -> str | None:
    """The PostgreSQL user a connection URL logs in as, without Supavisor's `.<project ref>` tenant suffix;
    None for anything that is not a postgres:// or postgresql:// URL (or, in a preview, not known yet)."""
    if not value.startswith(("postgres://", "postgresql://")):
        return None
    user = urlsplit(value).username
    return unquote(user).partition(".")[0] if user else None


def stack_of(urn: str) -> str:
    """The stack in a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`)."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


def gate_problems(props: Mapping[str, Any], gate: str, workflow: Path | None = None) -> list[str]:
    """What a branch protection lacks to be the merge gate: the isolation suite's check, strict, for everyone."""
    problems = []
    checks = prop(props, "requiredStatusChecks") or []
    contexts = {c for check in checks if isinstance(check, Mapping) for c in check.get("contexts") or []}
    if gate not in contexts:
        problems.append(
            f"required_status_checks must include {gate!r}, the CI job that runs the isolation suite "
            f"(.github/workflows/ci.yml), got {sorted(contexts)}"
        )
    problems += workflow_mismatches(sorted(contexts), workflow)
    if not any(isinstance(check, Mapping) and check.get("strict") is True for check in checks):
        problems.append(
            "required_status_checks must be strict (the branch up to date with main before merging)"
        )
    if props.get("enforceAdmins") is not True:
        problems.append("enforce_admins must be true (administrators merge through the same gate)")
    for key, name in (("allowsForcePushes", "allows_force_pushes"), ("allowsDeletions", "allows_deletions")):
        if props.get(key) is not False:
            problems.append(f"{name} must be false")
    reviews = prop(props, "requiredPullRequestReviews") or []
    if not reviews:
        problems.append(
            "required_pull_request_reviews must be set (changes reach main through pull requests)"
        )
    return problems


def build_policies(register: Register, workflow: Path | None = None) -> list[Policy]:
    supabase = register.get("supabase")
    vercel = register.get("vercel")
    gate = isolation_gate(workflow)

    def supabase_region(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != SUPABASE_PROJECT:
            return
        region = args.props.get("region")
        allowed = set(register.supabase_allowed_regions) & set(supabase.hosting_region)
        if region not in allowed:
            report(
                f"Supabase project {args.name} is in region {region!r}; the register allows only "
                f"{sorted(allowed)} (compliance/subprocessors.yaml)",
                None,
            )

    def vercel_regions(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != VERCEL_PROJECT:
            return
        regions = prop(args.props, "resourceConfig.functionDefaultRegions") or []
        legacy = args.props.get("serverlessFunctionRegion")
        allowed = VERCEL_EU_REGIONS & set(vercel.hosting_region)
        if not regions:
            report(f"Vercel project {args.name} sets no resource_config.function_default_regions", None)
        outside = sorted({*regions, *([legacy] if legacy else [])} - allowed)
        if outside:
            report(
                f"Vercel project {args.name} runs functions in {outside}; only {sorted(allowed)} "
                "(EU regions in the register) are allowed",
                None,
            )
        if args.props.get("functionFailover") is not False:
            report(
                f"Vercel project {args.name} must set function_failover = false (no failover out of the EU)",
                None,
            )

    def registered_subprocessors(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if is_repository_type(args.resource_type) and stack_of(args.urn) == REPO_STACK:
            return  # the repository's protection, in its own stack (infra/repo/)
        key = subprocessor_of(args.resource_type)
        if key is not None and key not in register.keys:
            report(
                f"{args.resource_type} ({args.name}) belongs to {key.removeprefix('unregistered:')!r}, which is "
                f"not a subprocessor in compliance/subprocessors.yaml (registered: {sorted(register.keys)})",
                None,
            )

    def mfa_enabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != SUPABASE_AUTH:
            return
        for key in ("mfa_totp_enroll_enabled", "mfa_totp_verify_enabled"):
            if args.props.get(key) is not True:
                report(
                    f"Supabase auth settings {args.name}: {key} must be true (TOTP MFA for every user)", None
                )

    def invitation_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != SUPABASE_AUTH:
            return
        # Sign-ups may be open only behind the invitation hook (db/schema/0280); closed is invitation-only too.
        if args.props.get("disable_signup") is not True:
            if args.props.get("hook_before_user_created_enabled") is not True:
                report(
                    f"Supabase auth settings {args.name}: with sign-ups open (disable_signup false), "
                    "hook_before_user_created_enabled must be true (the portal is invitation-only)",
                    None,
                )
            uri = args.props.get("hook_before_user_created_uri")
            if uri != BEFORE_USER_CREATED_HOOK_URI:
                report(
                    f"Supabase auth settings {args.name}: hook_before_user_created_uri must be "
                    f"{BEFORE_USER_CREATED_HOOK_URI} (the invitation check), got {uri!r}",
                    None,
                )
        for key in ("mailer_autoconfirm", "external_anonymous_users_enabled"):
            if args.props.get(key) is not False:
                report(
                    f"Supabase auth settings {args.name}: {key} must be false (invited addresses are confirmed "
                    "by their link; no anonymous accounts)",
                    None,
                )
        length = args.props.get("password_min_length")
        if not isinstance(length, int | float) or length < MIN_PASSWORD_LENGTH:
            report(
                f"Supabase auth settings {args.name}: password_min_length must be at least {MIN_PASSWORD_LENGTH}, "
                f"got {length!r}",
                None,
            )

    def vercel_secrets_sensitive(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != VERCEL_ENV:
            return
        key = str(args.props.get("key", ""))
        value = str(args.props.get("value", ""))
        looks_secret = bool(SECRET_NAME.search(key)) or bool(re.search(r"://[^/\s:@]+:[^/\s@]+@", value))
        if looks_secret and args.props.get("sensitive") is not True:
            report(f"Vercel environment variable {key} holds a secret and must be sensitive = true", None)
        if looks_secret and "development" in (args.props.get("targets") or []):
            report(f"Vercel environment variable {key} holds a secret and must not target development", None)

    def no_rls_bypass_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != VERCEL_ENV:
            return
        key = str(args.props.get("key", ""))
        if bypasses_rls(key, str(args.props.get("value", ""))):
            report(
                f"Vercel environment variable {key} carries a Supabase secret or service_role key, which "
                "bypasses RLS; the portal reads and writes only through RLS: give the job a system account "
                "instead (infra/providers/supabase_auth_admin.py)",
                None,
            )

    def portal_database_login(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != VERCEL_ENV:
            return
        key = str(args.props.get("key", ""))
        login = database_login(str(args.props.get("value", "")))
        if login is None:
            return
        if key == PORTAL_DATABASE_URL and login != PORTAL_LOGIN:
            report(
                f"Vercel environment variable {key} logs in as {login!r}: the portal's request pool must use the "
                f"{PORTAL_LOGIN} login (db/schema/0375), which can only set role anon or authenticated",
                None,
            )
        elif login in RLS_BYPASS_LOGINS:
            report(
                f"Vercel environment variable {key} logs in as {login!r}, which is or can become a role that "
                f"bypasses RLS; Vercel functions use {PORTAL_LOGIN} (portal) or a least-privilege login of their own",
                None,
            )

    def previews_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != VERCEL_PROJECT:
            return
        if args.props.get("previewDeploymentsDisabled") is True:
            return
        deployment_type = prop(args.props, "vercelAuthentication.deploymentType")
        if deployment_type not in PROTECTED_PREVIEWS:
            report(
                f"Vercel project {args.name}: preview deployments must sit behind Vercel Authentication "
                f"(vercel_authentication.deployment_type one of {sorted(PROTECTED_PREVIEWS)}, got {deployment_type!r})",
                None,
            )

    def private_schema_not_exposed(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != SUPABASE_POSTGREST:
            return
        schemas = args.props.get("db_schema") or []
        if isinstance(schemas, str):
            schemas = schemas.split(",")
        exposed = sorted({str(s).strip() for s in schemas} & NEVER_EXPOSED_SCHEMAS)
        if exposed:
            report(
                f"Supabase Data API settings {args.name} expose {exposed}: that schema holds the helpers RLS relies "
                "on and must never be reachable through the Data API (db/policies/README.md)",
                None,
            )

    def data_api_declared(args: StackValidationArgs, report: ReportViolation) -> None:
        projects = [r for r in args.resources if r.resource_type == SUPABASE_PROJECT]
        settings = [r for r in args.resources if r.resource_type == SUPABASE_POSTGREST]
        if len(settings) < len(projects):
            report(
                "every Supabase project needs PostgrestSettings: what the Data API exposes must be declared, "
                "not left to whatever the dashboard holds",
                None,
            )

    def ssl_enforced(args: StackValidationArgs, report: ReportViolation) -> None:
        projects = [r for r in args.resources if r.resource_type == SUPABASE_PROJECT]
        ssl = [r for r in args.resources if r.resource_type == SUPABASE_SSL]
        for resource in ssl:
            if resource.props.get("database") is not True:
                report(f"Supabase SSL enforcement {resource.name}: database must be true", resource.urn)
        if len([r for r in ssl if r.props.get("database") is True]) < len(projects):
            names = ", ".join(p.name for p in projects)
            report(f"every Supabase project ({names}) needs an SslEnforcement with database = true", None)

    def auth_declared(args: StackValidationArgs, report: ReportViolation) -> None:
        projects = [r for r in args.resources if r.resource_type == SUPABASE_PROJECT]
        auth = [r for r in args.resources if r.resource_type == SUPABASE_AUTH]
        if len(auth) < len(projects):
            report(
                "every Supabase project needs AuthSettings (MFA, signup and password rules are not defaults)",
                None,
            )

    def pitr_in_production(args: StackValidationArgs, report: ReportViolation) -> None:
        production = [
            r
            for r in args.resources
            if r.resource_type == SUPABASE_PROJECT and r.props.get("environment") == PRODUCTION_STACK
        ]
        pitr = [r for r in args.resources if r.resource_type == SUPABASE_PITR and r.props.get("variant")]
        if len(pitr) < len(production):
            names = ", ".join(p.name for p in production)
            report(
                f"production Supabase project ({names}) needs point-in-time recovery: declare a PitrAddon "
                "(supabase.pitr: pitr_7 or longer in Pulumi.prod.yaml)",
                None,
            )

    def retention_scheduled(args: StackValidationArgs, report: ReportViolation) -> None:
        # The privacy policy promises a 90-day log purge and erasure 5 years after the contract: pg_cron runs the
        # purge nightly (db/schema/0377), so every Supabase project needs the extension declared and the
        # migrations' run checked for the retention job (infra/providers/migrations.py verifies cron.job).
        projects = [r for r in args.resources if r.resource_type == SUPABASE_PROJECT]
        if not projects:
            return
        names = ", ".join(p.name for p in projects)
        extensions = [
            r
            for r in args.resources
            if r.resource_type == SUPABASE_EXTENSION and r.props.get("extension") == cron_jobs.EXTENSION
        ]
        if len(extensions) < len(projects):
            report(
                f"Supabase project ({names}) needs pg_cron enabled: declare a DatabaseExtension "
                f"extension={cron_jobs.EXTENSION!r} (infra/providers/database_extension.py); without it nothing "
                "runs the nightly retention purge",
                None,
            )
        retention = cron_jobs.RETENTION
        migrations = [r for r in args.resources if r.resource_type == SUPABASE_MIGRATIONS]
        scheduling = [
            r
            for r in migrations
            if (r.props.get("cron_jobs") or {}).get(retention.name) == retention.schedule
        ]
        if len(scheduling) < len(projects):
            report(
                f"Supabase project ({names}) must have its DatabaseMigrations check that pg_cron schedules "
                f"{retention.name!r} at {retention.schedule!r} (cron_jobs, nexk/cron_jobs.py): the retention "
                "purge the privacy policy promises",
                None,
            )

    def main_gated_by_isolation_suite(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type != GITHUB_BRANCH_PROTECTION:
            return
        for problem in gate_problems(args.props, gate, workflow):
            report(f"GitHub branch protection {args.name} ({args.props.get('pattern')}): {problem}", None)

    def resource_policy(name: str, description: str, validate: Any) -> ResourceValidationPolicy:
        return ResourceValidationPolicy(
            name=name, description=description, validate=validate, enforcement_level=MANDATORY
        )

    def stack_policy(name: str, description: str, validate: Any) -> StackValidationPolicy:
        return StackValidationPolicy(
            name=name, description=description, validate=validate, enforcement_level=MANDATORY
        )

    return [
        resource_policy(
            "supabase-region-in-register",
            "The Supabase project lives in a region the subprocessor register allows (eu-central-1, Frankfurt).",
            supabase_region,
        ),
        resource_policy(
            "vercel-function-regions-eu",
            "Vercel functions run only in EU regions the register lists, without failover elsewhere.",
            vercel_regions,
        ),
        resource_policy(
            "only-registered-subprocessors",
            "Every resource belongs to a subprocessor listed in compliance/subprocessors.yaml (or is local).",
            registered_subprocessors,
        ),
        resource_policy("supabase-mfa-enabled", "Supabase Auth offers and verifies TOTP MFA.", mfa_enabled),
        resource_policy(
            "supabase-private-schema-not-exposed",
            "The Data API (PostgREST) never exposes the private schema.",
            private_schema_not_exposed,
        ),
        stack_policy(
            "supabase-data-api-declared",
            "Every Supabase project declares what its Data API exposes (PostgrestSettings).",
            data_api_declared,
        ),
        resource_policy(
            "supabase-invitation-only",
            "Supabase Auth creates accounts only for invitations (sign-ups closed, or open behind the "
            "before-user-created hook private.hook_before_user_created), never autoconfirms or signs in "
            "anonymously, and requires passwords of at least 12 characters.",
            invitation_only,
        ),
        resource_policy(
            "vercel-secrets-sensitive",
            "Vercel environment variables holding secrets are sensitive and never reach development.",
            vercel_secrets_sensitive,
        ),
        resource_policy(
            "vercel-no-rls-bypass-key",
            "No Vercel environment variable carries a Supabase key that bypasses RLS (secret or service_role).",
            no_rls_bypass_key,
        ),
        resource_policy(
            "vercel-portal-database-login",
            f"The portal's database URL ({PORTAL_DATABASE_URL}) logs in as {PORTAL_LOGIN}, and no Vercel "
            "variable logs in as postgres, authenticator, service_role or supabase_admin.",
            portal_database_login,
        ),
        resource_policy(
            "vercel-previews-protected",
            "Preview deployments require Vercel Authentication.",
            previews_protected,
        ),
        stack_policy(
            "supabase-ssl-enforced", "Every Supabase database refuses non-TLS connections.", ssl_enforced
        ),
        stack_policy(
            "supabase-auth-declared", "Every Supabase project has its auth settings in code.", auth_declared
        ),
        resource_policy(
            "main-gated-by-isolation-suite",
            "The protection of main requires the CI job that runs the isolation suite, strict, for administrators "
            "too, through pull requests, with no force pushes or deletions.",
            main_gated_by_isolation_suite,
        ),
        stack_policy(
            "supabase-retention-scheduled",
            "Every Supabase project enables pg_cron and its migrations check that the nightly retention purge "
            "is scheduled.",
            retention_scheduled,
        ),
        stack_policy(
            "supabase-pitr-in-production",
            "The production database has point-in-time recovery.",
            pitr_in_production,
        ),
    ]
