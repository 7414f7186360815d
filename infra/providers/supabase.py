"""Supabase as Pulumi dynamic providers over the Management API v1 (https://api.supabase.com).

Why not the `pulumi-supabase` package: 1.1.2 (2022) is abandoned, never sends the `organization_slug` the API
now requires, and has no auth, SMTP, SSL, network or backup settings. The split below mirrors the official
Terraform provider instead (`supabase_project` plus one settings resource per concern):

| resource                    | API (operationId in the OpenAPI document vendored by the Supabase CLI)         | delete            |
|-----------------------------|--------------------------------------------------------------------------------|-------------------|
| Project                     | v1-create-a-project, v1-get-project, v1-update-a-project, v1-delete-a-project, | deletes project   |
|                             | v1-get-all-projects-for-organization (adoption), v1-list-project-addons and    |                   |
|                             | v1-apply-project-addon (compute size), v1-update-database-password             |                   |
| AuthSettings                | v1-get/update-auth-service-config (GET/PATCH /config/auth)                     | forgets (settings)|
| PostgrestSettings           | v1-get/update-postgrest-service-config (GET/PATCH /postgrest)                  | forgets (settings)|
| SslEnforcement              | v1-get/update-ssl-enforcement-config (GET/PUT /ssl-enforcement)                | forgets (settings)|
| NetworkRestrictions         | v1-get-network-restrictions, v1-update-network-restrictions (POST …/apply)     | forgets (settings)|
| PitrAddon                   | v1-list-project-addons, v1-apply-project-addon, v1-remove-project-addon        | removes add-on    |
| PoolerConnection            | v1-get-pooler-config, v1-update-pooler-config                                  | forgets (read)    |
| PublishableKey              | v1-get-project-api-keys, v1-create-project-api-key, v1-delete-project-api-key  | deletes key       |

Settings resources "forget" on delete, like Terraform's `supabase_settings`: removing one from the program must
not silently weaken a live project (for instance turn SSL enforcement off). Users in Supabase Auth (GoTrue's
admin API, not the Management API) are in `supabase_auth_admin.py`.

Readiness: changing SSL enforcement restarts Postgres, and network restrictions are
`stored` before they are `applied`. Like the official Terraform provider (`internal/provider/settings_resource.go`
`updateSslEnforcementConfig`, `internal/provider/utils.go` `waitForProjectActive`/`waitForServicesActive`),
those resources poll until the change is applied, then wait for the project to be ACTIVE_HEALTHY and for its
services (`GET /v1/projects/{ref}/health`, v1-get-services-health) to be healthy, within a bounded time and
with an error that says what to do. DatabaseMigrations depends on both, so it never connects mid-restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.base import (
    TokenProvider,
    diff_inputs,
    inputs_of,
    is_unknown,
    required,
    with_secret_outputs,
)
from infra.providers.http import OutcomeUnknownError, VendorApi, VendorApiError

SUPABASE_API_URL = "https://api.supabase.com"
READY_STATUS = "ACTIVE_HEALTHY"
# Terminal states: waiting cannot help (terraform-provider-supabase, internal/provider/utils.go,
# terminalProjectStatuses). Every other status (COMING_UP, RESTARTING, RESIZING, ...) is waited out.
FAILED_STATUSES = frozenset(
    {"INIT_FAILED", "REMOVED", "GOING_DOWN", "INACTIVE", "PAUSE_FAILED", "RESTORE_FAILED"}
)
# The services the portal needs after a restart (v1-get-services-health `services`, an enum of auth, db,
# db_postgres_user, pooler, realtime, rest, storage, pg_bouncer). The portal uses no Realtime.
HEALTH_SERVICES = ("db", "pooler", "auth", "rest", "storage")
PASSWORD_PLACEHOLDER = "[YOUR-PASSWORD]"  # noqa: S105 (the API's placeholder text)
# Compute sizes that have a compute add-on variant `ci_<size>` (ApplyProjectAddonBody.addon_variant): `nano`
# (the free plan's shared instance) is a valid `desired_instance_size` but has no variant, so it can neither be
# read back from the add-ons nor resized to.
COMPUTE_SIZES = (
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
)


class SupabaseProvider(TokenProvider[VendorApi]):
    token_config_key: ClassVar[str] = "supabaseAccessToken"  # noqa: S105 (a config key name, not a secret)
    token_env_var: ClassVar[str] = "SUPABASE_ACCESS_TOKEN"  # noqa: S105 (a variable name, not a secret)
    kind: ClassVar[str] = "resource"

    def __init__(
        self,
        api_url: str = SUPABASE_API_URL,
        backoff_seconds: float = 0.5,
        poll_seconds: float = 5.0,
        ready_timeout_seconds: float = 900.0,
    ) -> None:
        super().__init__(
            VendorApi("Supabase", api_url, "Authorization", "Bearer ", backoff_seconds=backoff_seconds)
        )
        self.poll_seconds = poll_seconds
        self.ready_timeout_seconds = ready_timeout_seconds

    def label(self, props: Mapping[str, Any]) -> str:
        return f"{self.kind} of project {props.get('project_ref')}"

    # ----------------------------------------------------------------------------------------- readiness

    def wait_for_project(self, ref: str, what: str, timeout_seconds: float | None = None) -> dict[str, Any]:
        """GET /v1/projects/{ref} until ACTIVE_HEALTHY (terminal states fail at once)."""
        seen: list[str] = []

        def probe() -> dict[str, Any] | None:
            project = self.call("GET", f"/v1/projects/{ref}", resource=what)
            status = project.get("status")
            seen.append(str(status))
            if status == READY_STATUS:
                return project
            if status in FAILED_STATUSES:
                raise VendorApiError(f"Supabase {what}: project status {status}, not {READY_STATUS}")
            return None

        return self.api.wait_until(
            what,
            probe,
            timeout_seconds=timeout_seconds or self.ready_timeout_seconds,
            poll_seconds=self.poll_seconds,
            hint=lambda: (
                f"the project is still {seen[-1] if seen else 'unknown'}; run `pulumi up` again once the "
                "dashboard shows it healthy (docs/ops.md, first deployment)"
            ),
        )

    def wait_for_services(self, ref: str, what: str) -> list[dict[str, Any]]:
        """GET /v1/projects/{ref}/health until every service the portal uses is ACTIVE_HEALTHY.

        Like Terraform's waitForProjectServicesActive: COMING_UP is waited out, and so is UNHEALTHY with the two
        transient errors the API reports while a service starts ("not found" from a pooler being provisioned,
        "Failed to retrieve project's <service> service health"); any other UNHEALTHY fails with its error.
        """
        seen: list[str] = []

        def probe() -> list[dict[str, Any]] | None:
            services = self.call(
                "GET",
                f"/v1/projects/{ref}/health",
                resource=what,
                params={"services": list(HEALTH_SERVICES)},
            )
            pending = []
            for service in services or []:
                name, status, error = service.get("name"), service.get("status"), service.get("error") or ""
                if status == READY_STATUS:
                    continue
                if status == "UNHEALTHY" and not _transient_health_error(str(name), error):
                    raise VendorApiError(
                        f"Supabase {what}: service {name} is unhealthy: {error or 'no reason'}"
                    )
                pending.append(f"{name} {status}")
            seen[:] = pending
            return None if pending else list(services or [])

        return self.api.wait_until(
            what,
            probe,
            timeout_seconds=self.ready_timeout_seconds,
            poll_seconds=self.poll_seconds,
            hint=lambda: (
                f"services still starting ({', '.join(seen)}); check the project's health in the dashboard and "
                "run `pulumi up` again once it is healthy"
            ),
        )

    def wait_until_ready(self, ref: str, what: str) -> None:
        """The project is ACTIVE_HEALTHY and its services answer: safe to connect or change settings."""
        self.wait_for_project(ref, what)
        self.wait_for_services(ref, what)


def _transient_health_error(service: str, error: str) -> bool:
    # terraform-provider-supabase internal/provider/utils.go, errorFromServiceErrorDescription: the error is a
    # JSON string such as {"error": "not found"}.
    text = error.lower()
    return (service == "pooler" and "not found" in text) or "failed to retrieve project" in text


def compute_size_of(addons: Mapping[str, Any] | None) -> str | None:
    """The compute size selected in `GET /v1/projects/{ref}/billing/addons` (`ci_small` -> `small`)."""
    for addon in (addons or {}).get("selected_addons", []):
        if addon.get("type") == "compute_instance":
            variant = str((addon.get("variant") or {}).get("id") or "")
            return variant.removeprefix("ci_") or None
    return None


# --------------------------------------------------------------------------------------------------- Project


class ProjectProvider(SupabaseProvider):
    """A Supabase project: a region change is a replacement, refused unless the compliance register allows it."""

    kind = "project"
    INPUTS = ("name", "organization_slug", "region", "instance_size", "db_pass", "environment")
    REPLACE_ON = ("organization_slug", "region")
    UPDATABLE = ("name", "instance_size", "db_pass", "environment")
    PAGE_SIZE = 100  # v1-get-all-projects-for-organization: limit 1..100

    def __init__(
        self,
        api_url: str = SUPABASE_API_URL,
        backoff_seconds: float = 0.5,
        poll_seconds: float = 10.0,
        poll_timeout_seconds: float = 1200.0,
        register_path: str | None = None,
    ) -> None:
        super().__init__(api_url, backoff_seconds, poll_seconds, poll_timeout_seconds)
        self.register_path = register_path

    def _allowed_regions(self) -> tuple[str, ...]:
        # Imported here so the provider process loads the register only when it checks a project.
        from nexk.subprocessors import REGISTER_PATH, load_register

        register = load_register(Path(self.register_path) if self.register_path else REGISTER_PATH)
        return register.supabase_allowed_regions

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("name", "organization_slug", "region", "instance_size", "db_pass"))
        region = news.get("region")
        if region and not is_unknown(region):
            allowed = self._allowed_regions()
            if region not in allowed:
                failures.append(
                    CheckFailure(
                        "region",
                        f"Supabase region {region!r} is not allowed by compliance/subprocessors.yaml "
                        f"(supabase_allowed_regions: {list(allowed)}); a region change recreates the database "
                        "and needs the register, the privacy policy and the DPA updated first",
                    )
                )
        size = news.get("instance_size")
        if size and not is_unknown(size) and size not in COMPUTE_SIZES:
            failures.append(
                CheckFailure(
                    "instance_size",
                    f"instance_size {size!r} has no compute add-on (ci_<size>) in the Management API, so it "
                    f"could never be read back or resized; use one of {list(COMPUTE_SIZES)}",
                )
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_inputs(olds, news, updatable=self.UPDATABLE, replace_on=self.REPLACE_ON)
        # The old project must be gone before a new one can take its name in the organization.
        result.delete_before_replace = bool(result.replaces)
        return result

    def _find(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The organization's project named `props["name"]` (names are not unique: the first match)."""
        slug, name = props["organization_slug"], props["name"]
        offset = 0
        while True:
            page = self.call(
                "GET",
                f"/v1/organizations/{slug}/projects",
                resource=f"project {name}",
                params={"search": name, "limit": self.PAGE_SIZE, "offset": offset},
            )
            projects = (page or {}).get("projects") or []
            for project in projects:
                if project.get("name") == name:
                    return project
            count = int(((page or {}).get("pagination") or {}).get("count") or 0)
            offset += len(projects)
            if not projects or offset >= count:
                return None

    def _outs(self, props: Mapping[str, Any], project: Mapping[str, Any], size: str | None) -> dict[str, Any]:
        ref = project.get("ref") or project["id"]
        return {
            **inputs_of(props, self.INPUTS),
            "instance_size": size,
            "ref": ref,
            "region": project.get("region", props["region"]),
            "status": project.get("status"),
            "api_url": f"https://{ref}.supabase.co",
        }

    def _compute_size(self, ref: str, resource: str) -> str | None:
        addons = self.call("GET", f"/v1/projects/{ref}/billing/addons", resource=resource)
        return compute_size_of(addons)

    def _adopt(self, existing: Mapping[str, Any], props: Mapping[str, Any]) -> str:
        if existing.get("region") != props["region"]:
            raise VendorApiError(
                f"Supabase project {props['name']}: already exists in region {existing.get('region')}, "
                f"not {props['region']}; delete or rename it first"
            )
        return str(existing.get("ref") or existing["id"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["name"]
        existing = self._find(props)
        if existing is not None:
            # A retried `up` (or an import by hand) finds the project it created before: adopt it, unless it
            # lives somewhere the register does not allow.
            ref = self._adopt(existing, props)
        else:
            body = {
                "name": name,
                "organization_slug": props["organization_slug"],
                "db_pass": props["db_pass"],
                "region_selection": {"type": "specific", "code": props["region"]},
                "desired_instance_size": props["instance_size"],
            }
            try:
                created = self.call("POST", "/v1/projects", resource=f"project {name}", json=body)
                ref = created.get("ref") or created["id"]
            except OutcomeUnknownError as exc:
                # Supabase may have created (and started billing) the project before the error: look for it
                # rather than POST again, since project names are not unique.
                found = self._find(props)
                if found is None:
                    raise VendorApiError(
                        f"{exc}. No project named {name} exists in organization {props['organization_slug']} "
                        "now, so none was created: run `pulumi up` again",
                        status=exc.status,
                    ) from exc
                ref = self._adopt(found, props)
        project = self.wait_for_project(ref, f"project {name} ({ref})")
        size = self._compute_size(ref, f"project {name} ({ref})")
        if size != props["instance_size"]:
            # An adopted project of another size is resized to the declared one.
            self._resize(ref, props)
        return CreateResult(ref, self._outs(props, project, props["instance_size"]))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        project = self.call("GET", f"/v1/projects/{id_}", resource=f"project {id_}", missing_ok=True)
        if project is None:
            return ReadResult("", {})
        # The compute size lives in the billing add-ons: a resize in the dashboard shows up as drift.
        size = self._compute_size(id_, f"project {id_}")
        outs = self._outs({**props, "name": project.get("name", props.get("name"))}, project, size)
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def _resize(self, ref: str, props: Mapping[str, Any]) -> None:
        body = {"addon_type": "compute_instance", "addon_variant": f"ci_{props['instance_size']}"}
        resource = f"project {props['name']} ({ref})"
        self.call("PATCH", f"/v1/projects/{ref}/billing/addons", resource=resource, json=body)
        # The project goes RESIZING, then back to ACTIVE_HEALTHY (Terraform's updateInstanceSize waits too).
        self.wait_for_project(ref, resource)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        resource = f"project {news['name']} ({id_})"
        if olds.get("name") != news["name"]:
            self.call("PATCH", f"/v1/projects/{id_}", resource=resource, json={"name": news["name"]})
        if olds.get("instance_size") != news["instance_size"]:
            self._resize(id_, news)
        if olds.get("db_pass") != news["db_pass"]:
            body = {"password": news["db_pass"]}
            self.call("PATCH", f"/v1/projects/{id_}/database/password", resource=resource, json=body)
        project = self.wait_for_project(id_, resource)
        return UpdateResult(self._outs(news, project, news["instance_size"]))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.call(
            "DELETE", f"/v1/projects/{id_}", resource=f"project {props.get('name')} ({id_})", missing_ok=True
        )


class Project(Resource, module="supabase", name="Project"):
    ref: pulumi.Output[str]
    region: pulumi.Output[str]
    api_url: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        organization_slug: pulumi.Input[str],
        region: pulumi.Input[str],
        instance_size: pulumi.Input[str],
        db_pass: pulumi.Input[str],
        environment: pulumi.Input[str],
        provider: ProjectProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "organization_slug": organization_slug,
            "region": region,
            "instance_size": instance_size,
            "db_pass": db_pass,
            "environment": environment,
            "ref": None,
            "api_url": None,
            "status": None,
        }
        opts = with_secret_outputs(opts, "db_pass")
        super().__init__(provider or ProjectProvider(), resource_name, props, opts)


# ---------------------------------------------------------------------------------------------- AuthSettings

# Our input name -> the Management API's field name in UpdateAuthConfigBody.
AUTH_FIELDS: dict[str, str] = {
    "site_url": "site_url",
    "uri_allow_list": "uri_allow_list",
    "disable_signup": "disable_signup",
    "hook_before_user_created_enabled": "hook_before_user_created_enabled",
    "hook_before_user_created_uri": "hook_before_user_created_uri",
    "mailer_autoconfirm": "mailer_autoconfirm",
    "external_anonymous_users_enabled": "external_anonymous_users_enabled",
    "mailer_subjects_confirmation": "mailer_subjects_confirmation",
    "mailer_templates_confirmation_content": "mailer_templates_confirmation_content",
    "mailer_otp_exp": "mailer_otp_exp",
    "external_email_enabled": "external_email_enabled",
    "password_min_length": "password_min_length",
    "jwt_exp": "jwt_exp",
    "mfa_totp_enroll_enabled": "mfa_totp_enroll_enabled",
    "mfa_totp_verify_enabled": "mfa_totp_verify_enabled",
    "smtp_host": "smtp_host",
    "smtp_port": "smtp_port",
    "smtp_user": "smtp_user",
    "smtp_admin_email": "smtp_admin_email",
    "smtp_sender_name": "smtp_sender_name",
    # Rate limits (UpdateAuthConfigBody; Supabase docs "Auth rate limits", guides/auth/rate-limits): e-mails
    # sent per hour by the project, the minimum seconds between two e-mails to one address, and the per-IP
    # limits of OTP requests, verifications and token refreshes.
    "rate_limit_email_sent": "rate_limit_email_sent",
    "smtp_max_frequency": "smtp_max_frequency",
    "rate_limit_otp": "rate_limit_otp",
    "rate_limit_verify": "rate_limit_verify",
    "rate_limit_token_refresh": "rate_limit_token_refresh",
}
# Write-only: the API returns it hashed, so it is never compared with what GET returns.
WRITE_ONLY_AUTH_FIELDS = ("smtp_pass",)


class AuthSettingsProvider(SupabaseProvider):
    """Supabase Auth configuration (site URL, redirects, signup and its hook, e-mail templates, passwords, MFA,
    SMTP)."""

    kind = "auth settings"
    INPUTS = ("project_ref", *AUTH_FIELDS, *WRITE_ONLY_AUTH_FIELDS)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref", "site_url"))
        # The API's own documented ranges; the policy pack enforces our stricter rules.
        jwt_exp = news.get("jwt_exp")
        if isinstance(jwt_exp, int) and not 0 <= jwt_exp <= 604800:
            failures.append(CheckFailure("jwt_exp", "jwt_exp must be between 0 and 604800 seconds"))
        otp_exp = news.get("mailer_otp_exp")
        if isinstance(otp_exp, int) and not 0 < otp_exp <= 86400:
            failures.append(
                CheckFailure("mailer_otp_exp", "mailer_otp_exp must be between 1 and 86400 seconds")
            )
        min_length = news.get("password_min_length")
        if isinstance(min_length, int) and min_length < 6:
            failures.append(CheckFailure("password_min_length", "password_min_length must be at least 6"))
        site_url = news.get("site_url")
        if isinstance(site_url, str) and not is_unknown(site_url) and not site_url.startswith("https://"):
            failures.append(CheckFailure("site_url", f"site_url must be an https:// URL, got {site_url!r}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(
            olds, news, updatable=(*AUTH_FIELDS, *WRITE_ONLY_AUTH_FIELDS), replace_on=("project_ref",)
        )

    @staticmethod
    def body(props: Mapping[str, Any]) -> dict[str, Any]:
        body = {api: props[name] for name, api in AUTH_FIELDS.items() if props.get(name) is not None}
        if isinstance(body.get("uri_allow_list"), list):
            body["uri_allow_list"] = ",".join(
                body["uri_allow_list"]
            )  # the API takes one comma-separated string
        if body.get("smtp_port") is not None:
            body["smtp_port"] = str(body["smtp_port"])  # a string in the API's schema
        if props.get("smtp_pass"):
            body["smtp_pass"] = props["smtp_pass"]
        return body

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        self.call(
            "PATCH", f"/v1/projects/{ref}/config/auth", resource=self.label(props), json=self.body(props)
        )
        return inputs_of(props, self.INPUTS)

    def create(self, props: dict[str, Any]) -> CreateResult:
        # PATCH is idempotent: a retried create simply applies the same settings again.
        return CreateResult(f"{props['project_ref']}/auth", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref = props["project_ref"]
        current = self.call(
            "GET", f"/v1/projects/{ref}/config/auth", resource=self.label(props), missing_ok=True
        )
        if current is None:
            return ReadResult("", {})
        outs = dict(inputs_of(props, self.INPUTS))
        for name, api in AUTH_FIELDS.items():
            if api in current:
                value = current[api]
                if name == "uri_allow_list" and isinstance(value, str):
                    value = [item for item in value.split(",") if item]
                if name == "smtp_port" and value is not None:
                    value = str(value)
                outs[name] = value
        return ReadResult(id_, outs, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Settings belong to the project: forgetting them must not reset a live project's auth."""


class AuthSettings(Resource, module="supabase", name="AuthSettings"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        settings: Mapping[str, Any],
        provider: AuthSettingsProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        unknown = set(settings) - set(AuthSettingsProvider.INPUTS)
        if unknown:
            raise ValueError(f"AuthSettings {resource_name}: unknown settings {sorted(unknown)}")
        props = {"project_ref": project_ref, **settings}
        opts = with_secret_outputs(opts, "smtp_pass")
        super().__init__(provider or AuthSettingsProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------------ PostgrestSettings

# The schemas the Data API (PostgREST) may expose. `public` holds the RLS-protected tables; `graphql_public` is
# in Supabase's default (`db_schema: "public,graphql_public"` in the CLI's recorded GET /postgrest answer). The
# `private` schema holds security-definer helpers and the auth hook (db/policies/README.md): exposing it would
# let anyone with the publishable key call them, so it is refused here and by the policy pack.
EXPOSABLE_SCHEMAS = ("public", "graphql_public")
NEVER_EXPOSED_SCHEMAS = ("private",)


def schema_list(value: Any) -> list[str]:
    """`"public, graphql_public"` or a list -> `["public", "graphql_public"]` (the API uses comma strings)."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(item).strip() for item in items if str(item).strip()]


class PostgrestSettingsProvider(SupabaseProvider):
    """The Data API's exposed schemas, extra search path and row cap (Terraform's `supabase_settings.api`)."""

    kind = "PostgREST settings"
    INPUTS = ("project_ref", "db_schema", "db_extra_search_path", "max_rows")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref",))
        schemas = news.get("db_schema")
        if not isinstance(schemas, list) or not schemas:
            failures.append(CheckFailure("db_schema", "db_schema must be a non-empty list of schema names"))
        else:
            exposed = schema_list(schemas)
            forbidden = [name for name in exposed if name in NEVER_EXPOSED_SCHEMAS]
            unknown = [name for name in exposed if name not in EXPOSABLE_SCHEMAS and name not in forbidden]
            if forbidden:
                failures.append(
                    CheckFailure(
                        "db_schema",
                        f"schema(s) {forbidden} must never be exposed through the Data API: they hold the "
                        "security-definer helpers RLS relies on (db/policies/README.md)",
                    )
                )
            if unknown:
                failures.append(
                    CheckFailure(
                        "db_schema",
                        f"schema(s) {unknown} are not exposable; the Data API may expose only "
                        f"{list(EXPOSABLE_SCHEMAS)}",
                    )
                )
        max_rows = news.get("max_rows")
        # V1UpdatePostgrestConfigBody.max_rows: integer, 0..1000000.
        if not isinstance(max_rows, int) or isinstance(max_rows, bool) or not 1 <= max_rows <= 1_000_000:
            failures.append(CheckFailure("max_rows", "max_rows must be an integer from 1 to 1000000"))
        if not isinstance(news.get("db_extra_search_path"), list):
            failures.append(CheckFailure("db_extra_search_path", "db_extra_search_path must be a list"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(
            olds,
            news,
            updatable=("db_schema", "db_extra_search_path", "max_rows"),
            replace_on=("project_ref",),
        )

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        body = {
            "db_schema": ",".join(schema_list(props["db_schema"])),
            "db_extra_search_path": ", ".join(schema_list(props["db_extra_search_path"])),
            "max_rows": props["max_rows"],
        }
        self.call("PATCH", f"/v1/projects/{ref}/postgrest", resource=self.label(props), json=body)
        return inputs_of(props, self.INPUTS)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/postgrest", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref = props["project_ref"]
        current = self.call(
            "GET", f"/v1/projects/{ref}/postgrest", resource=self.label(props), missing_ok=True
        )
        if current is None:
            return ReadResult("", {})
        outs = {
            **inputs_of(props, self.INPUTS),
            "db_schema": schema_list(current.get("db_schema")),
            "db_extra_search_path": schema_list(current.get("db_extra_search_path")),
            "max_rows": current.get("max_rows"),
        }
        return ReadResult(id_, outs, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget only: dropping the resource must not change what a live project exposes."""


class PostgrestSettings(Resource, module="supabase", name="PostgrestSettings"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        db_schema: list[str],
        db_extra_search_path: list[str],
        max_rows: int,
        provider: PostgrestSettingsProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_ref": project_ref,
            "db_schema": list(db_schema),
            "db_extra_search_path": list(db_extra_search_path),
            "max_rows": max_rows,
        }
        super().__init__(provider or PostgrestSettingsProvider(), resource_name, props, opts)


# -------------------------------------------------------------------------------------------- SslEnforcement


class SslEnforcementProvider(SupabaseProvider):
    """Refuse non-TLS database connections."""

    kind = "SSL enforcement"
    INPUTS = ("project_ref", "database")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref",))
        if not isinstance(news.get("database"), bool):
            failures.append(CheckFailure("database", "database must be true or false"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=("database",), replace_on=("project_ref",))

    def _current(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        return self.call("GET", f"/v1/projects/{ref}/ssl-enforcement", resource=self.label(props)) or {}

    @staticmethod
    def _applied(config: Mapping[str, Any], wanted: bool) -> bool:
        return (
            bool(config.get("appliedSuccessfully"))
            and (config.get("currentConfig") or {}).get("database") == wanted
        )

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """PUT the wanted setting, poll until applied, then wait for the restarted database and pooler.

        terraform-provider-supabase `updateSslEnforcementConfig`: done when `appliedSuccessfully` and
        `currentConfig.database` match; otherwise poll GET, then `waitForServicesActive` "after the database
        reboot". An already matching project is left alone (no restart).
        """
        ref, wanted = props["project_ref"], props["database"]
        what = self.label(props)
        self.wait_until_ready(ref, what)
        if not self._applied(self._current(props), wanted):
            body = {"requestedConfig": {"database": wanted}}
            result = self.call("PUT", f"/v1/projects/{ref}/ssl-enforcement", resource=what, json=body)
            if not self._applied(result or {}, wanted):
                self.api.wait_until(
                    what,
                    lambda: True if self._applied(self._current(props), wanted) else None,
                    timeout_seconds=self.ready_timeout_seconds,
                    poll_seconds=self.poll_seconds,
                    hint=f"Supabase has not applied database={wanted}; check Database > Settings > SSL "
                    "in the dashboard and run `pulumi up` again",
                )
            # Postgres restarts to apply it: wait until the project and its pooler answer again.
            self.wait_until_ready(ref, what)
        return {**inputs_of(props, self.INPUTS), "applied": True}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/ssl-enforcement", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref = props["project_ref"]
        current = self.call(
            "GET", f"/v1/projects/{ref}/ssl-enforcement", resource=self.label(props), missing_ok=True
        )
        if current is None:
            return ReadResult("", {})
        outs = {
            **inputs_of(props, self.INPUTS),
            "database": bool(current.get("currentConfig", {}).get("database")),
            # The same output as create/update, so a refresh of an unchanged project reports no drift.
            "applied": bool(current.get("appliedSuccessfully")),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget only: dropping the resource must not turn enforcement off."""


class SslEnforcement(Resource, module="supabase", name="SslEnforcement"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        database: bool = True,
        provider: SslEnforcementProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"project_ref": project_ref, "database": database}
        super().__init__(provider or SslEnforcementProvider(), resource_name, props, opts)


# --------------------------------------------------------------------------------------- NetworkRestrictions


class NetworkRestrictionsProvider(SupabaseProvider):
    """Which networks may open a database connection (direct and pooler)."""

    kind = "network restrictions"
    INPUTS = ("project_ref", "db_allowed_cidrs", "db_allowed_cidrs_v6")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref",))
        for key in ("db_allowed_cidrs", "db_allowed_cidrs_v6"):
            if not isinstance(news.get(key), list):
                failures.append(CheckFailure(key, f"{key} must be a list of CIDR blocks"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(
            olds, news, updatable=("db_allowed_cidrs", "db_allowed_cidrs_v6"), replace_on=("project_ref",)
        )

    @staticmethod
    def _matches(current: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        config = current.get("config") or {}
        return sorted(config.get("dbAllowedCidrs") or []) == sorted(props["db_allowed_cidrs"]) and sorted(
            config.get("dbAllowedCidrsV6") or []
        ) == sorted(props["db_allowed_cidrs_v6"])

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the allowed CIDRs, then wait until they are `applied` (not just `stored`) and the project is
        ready again (NetworkRestrictionsResponse: `config` is what was requested, `status` stored|applied)."""
        ref = props["project_ref"]
        what = self.label(props)
        path = f"/v1/projects/{ref}/network-restrictions"
        self.wait_for_project(ref, what)
        current = self.call("GET", path, resource=what) or {}
        if not (self._matches(current, props) and current.get("status") == "applied"):
            # `apply` replaces the whole list (so the result is exactly what the program declares), and
            # sending the same lists twice gives the same result: safe to retry.
            body = {
                "dbAllowedCidrs": props["db_allowed_cidrs"],
                "dbAllowedCidrsV6": props["db_allowed_cidrs_v6"],
            }
            self.call("POST", f"{path}/apply", resource=what, json=body, idempotent=True)

            def applied() -> dict[str, Any] | None:
                state = self.call("GET", path, resource=what) or {}
                return state if state.get("status") == "applied" and self._matches(state, props) else None

            current = self.api.wait_until(
                what,
                applied,
                timeout_seconds=self.ready_timeout_seconds,
                poll_seconds=self.poll_seconds,
                hint="the restrictions are still `stored`, not `applied`; check Database > Settings > Network "
                "Restrictions in the dashboard and run `pulumi up` again",
            )
            self.wait_until_ready(ref, what)
        return {**inputs_of(props, self.INPUTS), "status": current.get("status")}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/network-restrictions", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        ref = props["project_ref"]
        current = self.call(
            "GET", f"/v1/projects/{ref}/network-restrictions", resource=self.label(props), missing_ok=True
        )
        if current is None:
            return ReadResult("", {})
        config = current.get("config", {})
        outs = {
            **inputs_of(props, self.INPUTS),
            "db_allowed_cidrs": config.get("dbAllowedCidrs", []),
            "db_allowed_cidrs_v6": config.get("dbAllowedCidrsV6", []),
            "status": current.get("status"),
        }
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget only, like the other settings resources."""


class NetworkRestrictions(Resource, module="supabase", name="NetworkRestrictions"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        db_allowed_cidrs: list[str],
        db_allowed_cidrs_v6: list[str],
        provider: NetworkRestrictionsProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_ref": project_ref,
            "db_allowed_cidrs": db_allowed_cidrs,
            "db_allowed_cidrs_v6": db_allowed_cidrs_v6,
        }
        super().__init__(provider or NetworkRestrictionsProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------------------- PitrAddon


class PitrAddonProvider(SupabaseProvider):
    """Point-in-time recovery (a billing add-on on top of the daily encrypted backups)."""

    kind = "PITR add-on"
    INPUTS = ("project_ref", "variant")
    VARIANTS = ("pitr_7", "pitr_14", "pitr_28")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref", "variant"))
        variant = news.get("variant")
        if variant and variant not in self.VARIANTS:
            failures.append(
                CheckFailure("variant", f"variant must be one of {list(self.VARIANTS)}, got {variant!r}")
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=("variant",), replace_on=("project_ref",))

    def _selected(self, props: Mapping[str, Any]) -> str | None:
        ref = props["project_ref"]
        addons = self.call(
            "GET", f"/v1/projects/{ref}/billing/addons", resource=self.label(props), missing_ok=True
        )
        for addon in (addons or {}).get("selected_addons", []):
            if addon.get("type") == "pitr":
                return (addon.get("variant") or {}).get("id")
        return None

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        if self._selected(props) != props["variant"]:
            body = {"addon_type": "pitr", "addon_variant": props["variant"]}
            self.call("PATCH", f"/v1/projects/{ref}/billing/addons", resource=self.label(props), json=body)
        return inputs_of(props, self.INPUTS)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/pitr", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        variant = self._selected(props)
        if variant is None:
            return ReadResult("", {})
        outs = {**inputs_of(props, self.INPUTS), "variant": variant}
        return ReadResult(id_, outs, outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ref = props["project_ref"]
        path = f"/v1/projects/{ref}/billing/addons/{props['variant']}"
        self.call("DELETE", path, resource=self.label(props), missing_ok=True)


class PitrAddon(Resource, module="supabase", name="PitrAddon"):
    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        variant: str,
        provider: PitrAddonProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"project_ref": project_ref, "variant": variant}
        super().__init__(provider or PitrAddonProvider(), resource_name, props, opts)


# ------------------------------------------------------------------------------------------ PoolerConnection


def _with_password(connection_string: str, password: str) -> str:
    return connection_string.replace(PASSWORD_PLACEHOLDER, quote(password, safe=""))


class PoolerConnectionProvider(SupabaseProvider):
    """The Supavisor connection strings, read from the API (never built by hand)."""

    kind = "pooler connection"
    INPUTS = ("project_ref", "db_pass", "pool_mode")
    SESSION_PORT = 5432  # Supavisor serves session mode on 5432 of the same host (Supabase docs, "Connect")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = required(news, ("project_ref", "db_pass"))
        if news.get("pool_mode") not in ("transaction", "session"):
            failures.append(CheckFailure("pool_mode", "pool_mode must be 'transaction' or 'session'"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=("db_pass", "pool_mode"), replace_on=("project_ref",))

    def _primary(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        ref = props["project_ref"]
        configs = self.call(
            "GET", f"/v1/projects/{ref}/config/database/pooler", resource=self.label(props), missing_ok=True
        )
        if configs is None:
            return None
        for config in configs:
            if config.get("database_type", "PRIMARY") == "PRIMARY":
                return config
        raise VendorApiError(f"Supabase {self.label(props)}: the API lists no PRIMARY pooler")

    def _outs(self, props: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
        password = props["db_pass"]
        user, host, name = config["db_user"], config["db_host"], config.get("db_name", "postgres")
        session = f"postgresql://{quote(user, safe='.')}:{quote(password, safe='')}@{host}:{self.SESSION_PORT}/{name}"
        return {
            **inputs_of(props, self.INPUTS),
            "db_host": host,
            "db_port": config["db_port"],
            "db_user": user,
            "db_name": name,
            "pool_mode": config.get("pool_mode"),
            "database_url": _with_password(config["connection_string"], password),
            "session_database_url": session,
        }

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        config = self._primary(props)
        if config is None:
            raise VendorApiError(f"Supabase {self.label(props)}: the project has no pooler configuration")
        if config.get("pool_mode") != props["pool_mode"]:
            ref = props["project_ref"]
            body = {"pool_mode": props["pool_mode"]}
            self.call(
                "PATCH", f"/v1/projects/{ref}/config/database/pooler", resource=self.label(props), json=body
            )
            config = self._primary(props) or config
        return self._outs(props, config)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['project_ref']}/pooler", self._apply(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        config = self._primary(props)
        if config is None:
            return ReadResult("", {})
        outs = self._outs(props, config)
        return ReadResult(id_, outs, inputs_of(props, self.INPUTS))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to delete: the pooler is part of the project."""


class PoolerConnection(Resource, module="supabase", name="PoolerConnection"):
    database_url: pulumi.Output[str]
    session_database_url: pulumi.Output[str]
    db_host: pulumi.Output[str]
    db_port: pulumi.Output[int]
    pool_mode: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        db_pass: pulumi.Input[str],
        pool_mode: str = "transaction",
        provider: PoolerConnectionProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project_ref": project_ref,
            "db_pass": db_pass,
            "pool_mode": pool_mode,
            "database_url": None,
            "session_database_url": None,
            "db_host": None,
            "db_port": None,
        }
        opts = with_secret_outputs(opts, "db_pass", "database_url", "session_database_url")
        super().__init__(provider or PoolerConnectionProvider(), resource_name, props, opts)


# -------------------------------------------------------------------------------------------- PublishableKey


class PublishableKeyProvider(SupabaseProvider):
    """The project's publishable API key (safe in browsers; RLS does the protecting)."""

    kind = "publishable key"
    INPUTS = ("project_ref", "name")

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, required(news, ("project_ref", "name")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_inputs(olds, news, updatable=(), replace_on=("project_ref", "name"))

    def _keys(self, props: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        ref = props["project_ref"]
        return self.call(
            "GET",
            f"/v1/projects/{ref}/api-keys",
            resource=self.label(props),
            params={"reveal": "true"},
            missing_ok=True,
        )

    @staticmethod
    def _outs(props: Mapping[str, Any], key: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **inputs_of(props, PublishableKeyProvider.INPUTS),
            "key_id": key.get("id"),
            "api_key": key["api_key"],
        }

    def _named(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        for key in self._keys(props) or []:
            if key.get("type") == "publishable" and key.get("name") == props["name"]:
                return key
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        existing = self._named(props)
        if existing is not None:
            return CreateResult(f"{props['project_ref']}/{existing.get('id')}", self._outs(props, existing))
        ref = props["project_ref"]
        try:
            key = self.call(
                "POST",
                f"/v1/projects/{ref}/api-keys",
                resource=self.label(props),
                params={"reveal": "true"},
                json={"type": "publishable", "name": props["name"]},
            )
        except OutcomeUnknownError as exc:
            # The key may exist now: adopt it by name rather than create a second one.
            found = self._named(props)
            if found is None:
                raise VendorApiError(
                    f"{exc}. No publishable key named {props['name']} exists now, so none was created: run "
                    "`pulumi up` again",
                    status=exc.status,
                ) from exc
            key = found
        return CreateResult(f"{ref}/{key.get('id')}", self._outs(props, key))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        for key in self._keys(props) or []:
            if key.get("id") == props.get("key_id"):
                return ReadResult(id_, self._outs(props, key), inputs_of(props, self.INPUTS))
        return ReadResult("", {})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ref = props["project_ref"]
        path = f"/v1/projects/{ref}/api-keys/{props.get('key_id')}"
        self.call("DELETE", path, resource=self.label(props), missing_ok=True)


class PublishableKey(Resource, module="supabase", name="PublishableKey"):
    api_key: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        project_ref: pulumi.Input[str],
        name: str = "portal",
        provider: PublishableKeyProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"project_ref": project_ref, "name": name, "api_key": None, "key_id": None}
        super().__init__(provider or PublishableKeyProvider(), resource_name, props, opts)
