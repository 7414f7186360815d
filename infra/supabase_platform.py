"""SupabasePlatform: the portal's database and authentication at Supabase Inc., pinned to Frankfurt.

One project per stack, with its auth settings (invitation only, TOTP MFA, SMTP through Brevo), SSL enforcement,
network restrictions, PITR in production, the transaction-mode pooler URL for the portal, the migrations and
the password of the notifications role `nexk_notifier` (created by db/schema/0203, no BYPASSRLS), whose own
pooler URL is the worker's NEXK_WORKER_DATABASE_URL.
"""

from __future__ import annotations

import pulumi

from infra.brevo_mail import SmtpRelay
from infra.providers.database_role import DatabaseRolePassword, role_database_url
from infra.providers.migrations import DatabaseMigrations, file_checksums
from infra.providers.supabase import (
    AuthSettings,
    NetworkRestrictions,
    PitrAddon,
    PoolerConnection,
    Project,
    PublishableKey,
    SslEnforcement,
)
from infra.settings import StackSettings

AUTH_CALLBACK_PATHS = ("/auth/callback", "/auth/confirm")
NOTIFIER_ROLE = "nexk_notifier"  # db/schema/0203_notifier_role.sql


def auth_settings(settings: StackSettings, smtp: SmtpRelay) -> dict[str, object]:
    """Supabase Auth configuration for the stack: the portal domain is the only place users are sent back to."""
    site_url = f"https://{settings.portal.domain}"
    return {
        "site_url": site_url,
        "uri_allow_list": [site_url + path for path in AUTH_CALLBACK_PATHS]
        + list(settings.portal.additional_redirect_urls),
        # Clients are invited by an agent; nobody creates an account on their own.
        "disable_signup": True,
        "external_email_enabled": True,
        "password_min_length": settings.supabase.password_min_length,
        "jwt_exp": settings.supabase.jwt_expiry_seconds,
        "mfa_totp_enroll_enabled": True,
        "mfa_totp_verify_enabled": True,
        "smtp_host": smtp.host,
        "smtp_port": str(smtp.port),
        "smtp_user": smtp.user,
        "smtp_pass": smtp.password,
        "smtp_admin_email": smtp.sender_email,
        "smtp_sender_name": smtp.sender_name,
    }


class SupabasePlatform(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        db_password: pulumi.Output[str],
        notifier_password: pulumi.Output[str],
        smtp: SmtpRelay,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("nexk:database:SupabasePlatform", name, None, opts)
        sb = settings.supabase
        child = pulumi.ResourceOptions(parent=self)

        self.project = Project(
            "project",
            name=sb.project_name,
            organization_slug=sb.organization_slug,
            region=sb.region,
            instance_size=sb.instance_size,
            db_pass=db_password,
            environment=settings.stack,
            # Production data must not disappear through a mistaken `pulumi destroy` or a replacement.
            opts=pulumi.ResourceOptions(parent=self, protect=settings.production),
        )
        ref = self.project.ref
        self.auth = AuthSettings("auth", project_ref=ref, settings=auth_settings(settings, smtp), opts=child)
        self.ssl = SslEnforcement("ssl-enforcement", project_ref=ref, database=True, opts=child)
        self.network = NetworkRestrictions(
            "network-restrictions",
            project_ref=ref,
            db_allowed_cidrs=list(sb.db_allowed_cidrs),
            db_allowed_cidrs_v6=list(sb.db_allowed_cidrs_v6),
            opts=child,
        )
        self.pitr = PitrAddon("pitr", project_ref=ref, variant=sb.pitr, opts=child) if sb.pitr else None
        self.pooler = PoolerConnection(
            "pooler", project_ref=ref, db_pass=db_password, pool_mode="transaction", opts=child
        )
        self.publishable_key = PublishableKey("publishable-key", project_ref=ref, name="portal", opts=child)
        migrations, policies = file_checksums()
        self.migrations = DatabaseMigrations(
            "migrations",
            project_ref=ref,
            # Session mode: the runner holds an advisory lock across transactions, which transaction mode forbids.
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            migrations=migrations,
            policies=policies,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ssl, self.network]),
        )

        # The role exists once the migrations ran; its password is set after them, through the same URL.
        self.notifier_password = DatabaseRolePassword(
            "notifier-role-password",
            project_ref=ref,
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            role=NOTIFIER_ROLE,
            password=notifier_password,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migrations]),
        )

        self.api_url: pulumi.Output[str] = self.project.api_url
        self.database_url: pulumi.Output[str] = pulumi.Output.secret(self.pooler.database_url)
        # Transaction mode like the portal; depends on the password resource so the URL works once published.
        self.worker_database_url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.pooler.database_url, notifier_password, self.notifier_password.id).apply(
                lambda values: role_database_url(values[0], NOTIFIER_ROLE, values[1])
            )
        )
        self.publishable_api_key: pulumi.Output[str] = self.publishable_key.api_key
        self.register_outputs({"ref": ref, "region": self.project.region, "apiUrl": self.api_url})
