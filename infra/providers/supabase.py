"""Supabase as Pulumi dynamic providers over the Management API v1 (https://api.supabase.com).

Why not the `pulumi-supabase` package: 1.1.2 (2022) is abandoned, never sends the `organization_slug` the API
now requires, and has no auth, SMTP, SSL, network or backup settings. The split below mirrors the official
Terraform provider instead (`supabase_project` plus one settings resource per concern):

| resource                    | API                                                            | delete            |
|-----------------------------|----------------------------------------------------------------|-------------------|
| Project                     | POST/GET/PATCH/DELETE /v1/projects[/{ref}]                     | deletes project   |
| AuthSettings                | GET/PATCH /v1/projects/{ref}/config/auth                       | forgets (settings)|
| SslEnforcement              | GET/PUT /v1/projects/{ref}/ssl-enforcement                     | forgets (settings)|
| NetworkRestrictions         | GET /…/network-restrictions, POST /…/network-restrictions/apply| forgets (settings)|
| PitrAddon                   | GET/PATCH /v1/projects/{ref}/billing/addons, DELETE …/{variant}| removes add-on    |
| PoolerConnection            | GET/PATCH /v1/projects/{ref}/config/database/pooler            | forgets (read)    |
| PublishableKey              | GET/POST/DELETE /v1/projects/{ref}/api-keys                    | deletes key       |

Settings resources "forget" on delete, like Terraform's `supabase_settings`: removing one from the program must
not silently weaken a live project (for instance turn SSL enforcement off). Users in Supabase Auth (GoTrue's
admin API, not the Management API) are in `supabase_auth_admin.py`.
"""

from __future__ import annotations

import time
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
from infra.providers.http import VendorApi, VendorApiError

SUPABASE_API_URL = "https://api.supabase.com"
READY_STATUS = "ACTIVE_HEALTHY"
FAILED_STATUSES = frozenset(
    {"INIT_FAILED", "REMOVED", "GOING_DOWN", "INACTIVE", "PAUSE_FAILED", "RESTORE_FAILED"}
)
PASSWORD_PLACEHOLDER = "[YOUR-PASSWORD]"  # noqa: S105 (the API's placeholder text)


class SupabaseProvider(TokenProvider):
    token_config_key: ClassVar[str] = "supabaseAccessToken"  # noqa: S105 (a config key name, not a secret)
    token_env_var: ClassVar[str] = "SUPABASE_ACCESS_TOKEN"  # noqa: S105 (a variable name, not a secret)
    kind: ClassVar[str] = "resource"

    def __init__(self, api_url: str = SUPABASE_API_URL, backoff_seconds: float = 0.5) -> None:
        super().__init__(
            VendorApi("Supabase", api_url, "Authorization", "Bearer ", backoff_seconds=backoff_seconds)
        )

    def label(self, props: Mapping[str, Any]) -> str:
        return f"{self.kind} of project {props.get('project_ref')}"


# --------------------------------------------------------------------------------------------------- Project


class ProjectProvider(SupabaseProvider):
    """A Supabase project: a region change is a replacement, refused unless the compliance register allows it."""

    kind = "project"
    INPUTS = ("name", "organization_slug", "region", "instance_size", "db_pass", "environment")
    REPLACE_ON = ("organization_slug", "region")
    UPDATABLE = ("name", "instance_size", "db_pass", "environment")

    def __init__(
        self,
        api_url: str = SUPABASE_API_URL,
        backoff_seconds: float = 0.5,
        poll_seconds: float = 10.0,
        poll_timeout_seconds: float = 1200.0,
        register_path: str | None = None,
    ) -> None:
        super().__init__(api_url, backoff_seconds)
        self.poll_seconds = poll_seconds
        self.poll_timeout_seconds = poll_timeout_seconds
        self.register_path = register_path

    def _allowed_regions(self) -> tuple[str, ...]:
        # Imported here so the provider process loads the register only when it checks a project.
        from compliance.subprocessors import REGISTER_PATH, load_register

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
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = diff_inputs(olds, news, updatable=self.UPDATABLE, replace_on=self.REPLACE_ON)
        # The old project must be gone before a new one can take its name in the organization.
        result.delete_before_replace = bool(result.replaces)
        return result

    def _find(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        projects = self.call("GET", "/v1/projects", resource=f"project {props['name']}") or []
        for project in projects:
            org = project.get("organization_slug") or project.get("organization_id")
            if project.get("name") == props["name"] and org == props["organization_slug"]:
                return project
        return None

    def _wait_until_ready(self, ref: str, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.poll_timeout_seconds
        while True:
            project = self.call("GET", f"/v1/projects/{ref}", resource=f"project {name} ({ref})")
            status = project.get("status")
            if status == READY_STATUS:
                return project
            if status in FAILED_STATUSES:
                raise VendorApiError(f"Supabase project {name} ({ref}): status {status}, not {READY_STATUS}")
            if time.monotonic() > deadline:
                raise VendorApiError(
                    f"Supabase project {name} ({ref}): still {status} after {self.poll_timeout_seconds:.0f}s; "
                    "run `pulumi up` again once the dashboard shows it healthy"
                )
            time.sleep(self.poll_seconds)

    def _outs(self, props: Mapping[str, Any], project: Mapping[str, Any]) -> dict[str, Any]:
        ref = project.get("ref") or project["id"]
        return {
            **inputs_of(props, self.INPUTS),
            "ref": ref,
            "region": project.get("region", props["region"]),
            "status": project.get("status"),
            "api_url": f"https://{ref}.supabase.co",
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["name"]
        existing = self._find(props)
        if existing is not None:
            # A retried `up` (or an import by hand) finds the project it created before: adopt it, unless it
            # lives somewhere the register does not allow.
            if existing.get("region") != props["region"]:
                raise VendorApiError(
                    f"Supabase project {name}: already exists in region {existing.get('region')}, "
                    f"not {props['region']}; delete or rename it first"
                )
            ref = existing.get("ref") or existing["id"]
        else:
            body = {
                "name": name,
                "organization_slug": props["organization_slug"],
                "db_pass": props["db_pass"],
                "region_selection": {"type": "specific", "code": props["region"]},
                "desired_instance_size": props["instance_size"],
            }
            created = self.call("POST", "/v1/projects", resource=f"project {name}", json=body)
            ref = created.get("ref") or created["id"]
        project = self._wait_until_ready(ref, name)
        return CreateResult(ref, self._outs(props, project))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        project = self.call("GET", f"/v1/projects/{id_}", resource=f"project {id_}", missing_ok=True)
        if project is None:
            return ReadResult("", {})
        outs = self._outs({**props, "name": project.get("name", props.get("name"))}, project)
        return ReadResult(id_, outs, inputs_of(outs, self.INPUTS))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        resource = f"project {news['name']} ({id_})"
        if olds.get("name") != news["name"]:
            self.call("PATCH", f"/v1/projects/{id_}", resource=resource, json={"name": news["name"]})
        if olds.get("instance_size") != news["instance_size"]:
            body = {"addon_type": "compute_instance", "addon_variant": f"ci_{news['instance_size']}"}
            self.call("PATCH", f"/v1/projects/{id_}/billing/addons", resource=resource, json=body)
        if olds.get("db_pass") != news["db_pass"]:
            body = {"password": news["db_pass"]}
            self.call("PATCH", f"/v1/projects/{id_}/database/password", resource=resource, json=body)
        project = self._wait_until_ready(id_, news["name"])
        return UpdateResult(self._outs(news, project))

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

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        body = {"requestedConfig": {"database": props["database"]}}
        result = self.call(
            "PUT", f"/v1/projects/{ref}/ssl-enforcement", resource=self.label(props), json=body
        )
        if not (result or {}).get("appliedSuccessfully", False):
            raise VendorApiError(
                f"Supabase {self.label(props)}: requested database={props['database']} was not applied "
                f"(API answered {result!r})"
            )
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

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        ref = props["project_ref"]
        # `apply` replaces the whole list, so the result is exactly what the program declares.
        body = {"dbAllowedCidrs": props["db_allowed_cidrs"], "dbAllowedCidrsV6": props["db_allowed_cidrs_v6"]}
        result = self.call(
            "POST", f"/v1/projects/{ref}/network-restrictions/apply", resource=self.label(props), json=body
        )
        return {**inputs_of(props, self.INPUTS), "status": (result or {}).get("status")}

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

    def create(self, props: dict[str, Any]) -> CreateResult:
        for key in self._keys(props) or []:
            if key.get("type") == "publishable" and key.get("name") == props["name"]:
                return CreateResult(f"{props['project_ref']}/{key.get('id')}", self._outs(props, key))
        ref = props["project_ref"]
        key = self.call(
            "POST",
            f"/v1/projects/{ref}/api-keys",
            resource=self.label(props),
            params={"reveal": "true"},
            json={"type": "publishable", "name": props["name"]},
        )
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
