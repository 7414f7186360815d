"""SupabasePlatform: the portal's database and authentication at Supabase Inc., pinned to Frankfurt.

One project per stack, with its auth settings (invitation only through the before-user-created hook, TOTP MFA,
SMTP through Brevo, the invitation e-mail, rate limits), the Data API's exposed schemas (never `private`), SSL
enforcement, network restrictions, PITR in production, pg_cron (which runs the nightly retention purge the
privacy policy promises; db/schema/0377), the migrations, the passwords of the two logins the
migrations create without one: the portal's `nexk_portal` (db/schema/0375: anon and authenticated only, never
service_role), whose transaction-mode pooler URL is the portal's NEXK_PORTAL_DATABASE_URL, and the
notifications role `nexk_notifier` (db/schema/0203, no BYPASSRLS), whose own pooler URL is the worker's
NEXK_WORKER_DATABASE_URL; and the storage sweeper's system account (a GoTrue user the portal's sweeper signs in
as, so it needs no key that bypasses RLS; db/schema/0270).
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra.brevo_mail import SmtpRelay
from infra.providers.database_extension import DatabaseExtension
from infra.providers.database_role import DatabaseRolePassword, role_database_url
from infra.providers.migrations import DatabaseMigrations, file_checksums
from infra.providers.supabase import (
    AuthSettings,
    NetworkRestrictions,
    PitrAddon,
    PoolerConnection,
    PostgrestSettings,
    Project,
    PublishableKey,
    SslEnforcement,
)
from infra.providers.supabase_auth_admin import SystemUser
from infra.settings import StackSettings
from nexk import cron_jobs
from nexk.portal_login import PORTAL_LOGIN
from nexk.system_accounts import STORAGE_SWEEPER_APP_METADATA

AUTH_CALLBACK_PATHS = ("/auth/callback", "/auth/confirm")
# Supabase Auth's before-user-created hook: a Postgres function in the schema the Data API does not expose.
BEFORE_USER_CREATED_HOOK_URI = "pg-functions://postgres/private/hook_before_user_created"  # db/schema/0280
INVITATION_TEMPLATE = Path(__file__).resolve().parent / "templates" / "auth" / "invitation.html"
INVITATION_SUBJECT = "Your invitation to myNexK / Votre invitation à myNexK / Uw uitnodiging voor myNexK"
NOTIFIER_ROLE = "nexk_notifier"  # db/schema/0203_notifier_role.sql
PORTAL_ROLE = PORTAL_LOGIN  # db/schema/0375_portal_login_role.sql
# The storage sweeper's claim (nexk/system_accounts.py): storage.objects policies let exactly this identity
# delete queued objects (private.is_storage_sweeper(), db/schema/0270_storage_deletion_queue.sql).


def storage_sweeper_email(settings: StackSettings) -> str:
    """The sweeper's sign-in address, on the portal domain (confirmed at creation, so no mail is sent to it)."""
    return f"storage-sweeper@{settings.portal.domain}"


def auth_settings(settings: StackSettings, smtp: SmtpRelay) -> dict[str, object]:
    """Supabase Auth configuration for the stack: the portal domain is the only place users are sent back to."""
    site_url = f"https://{settings.portal.domain}"
    limits = settings.supabase.auth_rate_limits
    return {
        "site_url": site_url,
        "uri_allow_list": [site_url + path for path in AUTH_CALLBACK_PATHS]
        + list(settings.portal.additional_redirect_urls),
        # Invitation-only, enforced by the before-user-created hook rather than by closing sign-ups: the portal
        # invites with an e-mail OTP sign-up (POST /auth/v1/otp, create_user) and the publishable key, because
        # GoTrue's own invite endpoint needs the service-role key, which request handlers never hold. So
        # sign-ups stay open and the hook (db/schema/0280) refuses every new user whose metadata lacks the
        # nonce of a pending invitation for that address: password sign-ups, OTP requests, anonymous sign-ins.
        "disable_signup": False,
        "hook_before_user_created_enabled": True,
        "hook_before_user_created_uri": BEFORE_USER_CREATED_HOOK_URI,
        # The address is confirmed by the invitation link, never automatically; no anonymous accounts at all.
        "mailer_autoconfirm": False,
        "external_anonymous_users_enabled": False,
        # The OTP sign-up sends GoTrue's "Confirm signup" e-mail: it is the invitation, and links the portal's
        # /auth/invite page with the token hash (verified there with type "email").
        "mailer_subjects_confirmation": INVITATION_SUBJECT,
        "mailer_templates_confirmation_content": INVITATION_TEMPLATE.read_text("utf-8"),
        # The link stays valid for a day (GoTrue's maximum; its default is an hour), long enough for someone
        # invited in the morning to act on it the same day.
        "mailer_otp_exp": 86400,
        "external_email_enabled": True,
        "password_min_length": settings.supabase.password_min_length,
        "jwt_exp": settings.supabase.jwt_expiry_seconds,
        "mfa_totp_enroll_enabled": True,
        "mfa_totp_verify_enabled": True,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port.apply(str),
        "smtp_user": smtp.user,
        "smtp_pass": smtp.password,
        "smtp_admin_email": smtp.sender_email,
        "smtp_sender_name": smtp.sender_name,
        # Typed per stack (supabase.authRateLimits), so a dashboard change shows as drift and an e-mail flood
        # (invitations, resets) is capped by us rather than by whatever the project had.
        "rate_limit_email_sent": limits.email_sent_per_hour,
        "smtp_max_frequency": limits.smtp_max_frequency_seconds,
        "rate_limit_otp": limits.otp_per_ip,
        "rate_limit_verify": limits.verify_per_ip,
        "rate_limit_token_refresh": limits.token_refresh_per_ip,
    }


class SupabasePlatform(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        db_password: pulumi.Output[str],
        notifier_password: pulumi.Output[str],
        portal_password: pulumi.Output[str],
        sweeper_rotation: pulumi.Input[str],
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
        self.ssl = SslEnforcement("ssl-enforcement", project_ref=ref, database=True, opts=child)
        self.network = NetworkRestrictions(
            "network-restrictions",
            project_ref=ref,
            db_allowed_cidrs=list(sb.db_allowed_cidrs),
            db_allowed_cidrs_v6=list(sb.db_allowed_cidrs_v6),
            opts=child,
        )
        # What the Data API exposes: `private` (the helpers RLS relies on) never; the provider's check and the
        # policy pack both refuse it.
        self.postgrest = PostgrestSettings(
            "postgrest",
            project_ref=ref,
            db_schema=list(sb.data_api.exposed_schemas),
            db_extra_search_path=list(sb.data_api.extra_search_path),
            max_rows=sb.data_api.max_rows,
            opts=child,
        )
        self.pitr = PitrAddon("pitr", project_ref=ref, variant=sb.pitr, opts=child) if sb.pitr else None
        self.pooler = PoolerConnection(
            "pooler", project_ref=ref, db_pass=db_password, pool_mode="transaction", opts=child
        )
        self.publishable_key = PublishableKey("publishable-key", project_ref=ref, name="portal", opts=child)
        # pg_cron runs the project's scheduled purges (nexk/cron_jobs.py). The Management API has no extension
        # endpoint, so it is enabled with SQL as the owner, the way Supabase's guide does it
        # (infra/providers/database_extension.py), before the migrations: 0377 schedules the jobs into it.
        self.pg_cron = DatabaseExtension(
            "pg-cron",
            project_ref=ref,
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            extension=cron_jobs.EXTENSION,
            schema=cron_jobs.EXTENSION_SCHEMA,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ssl, self.network]),
        )
        migrations, policies = file_checksums()
        self.migrations = DatabaseMigrations(
            "migrations",
            project_ref=ref,
            # Session mode: the runner holds an advisory lock across transactions, which transaction mode forbids.
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            migrations=migrations,
            policies=policies,
            # Checked in cron.job after every run: each job scheduled, active, at this schedule.
            cron_jobs=cron_jobs.schedules(),
            # SslEnforcement and NetworkRestrictions return only once the change is applied and the restarted
            # database and pooler are healthy again: the runner never connects mid-restart.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ssl, self.network, self.pg_cron]),
        )
        # After the migrations: the auth settings turn on the before-user-created hook, whose function
        # (private.hook_before_user_created, db/schema/0280) must exist first.
        self.auth = AuthSettings(
            "auth",
            project_ref=ref,
            settings=auth_settings(settings, smtp),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migrations]),
        )

        # The roles exist once the migrations ran; their passwords are set after them, through the same URL.
        self.portal_password = DatabaseRolePassword(
            "portal-role-password",
            project_ref=ref,
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            role=PORTAL_ROLE,
            password=portal_password,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migrations]),
        )
        self.notifier_password = DatabaseRolePassword(
            "notifier-role-password",
            project_ref=ref,
            database_url=pulumi.Output.secret(self.pooler.session_database_url),
            role=NOTIFIER_ROLE,
            password=notifier_password,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migrations]),
        )

        # The storage sweeper's system account. Its password is generated by the provider and changes with
        # `sweeper_rotation`; the auth settings (password rules) apply first.
        self.storage_sweeper = SystemUser(
            "storage-sweeper",
            project_ref=ref,
            email=storage_sweeper_email(settings),
            app_metadata=STORAGE_SWEEPER_APP_METADATA,
            rotation=sweeper_rotation,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.auth]),
        )

        self.api_url: pulumi.Output[str] = self.project.api_url
        # The portal's login in transaction mode (Supavisor, port 6543), never the owner's `postgres` (BYPASSRLS
        # on Supabase) nor PostgREST's `authenticator` (granted service_role); both URLs depend on their
        # password resource so they work once published.
        self.portal_database_url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.pooler.database_url, portal_password, self.portal_password.id).apply(
                lambda values: role_database_url(values[0], PORTAL_ROLE, values[1])
            )
        )
        self.worker_database_url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(self.pooler.database_url, notifier_password, self.notifier_password.id).apply(
                lambda values: role_database_url(values[0], NOTIFIER_ROLE, values[1])
            )
        )
        self.publishable_api_key: pulumi.Output[str] = self.publishable_key.api_key
        self.storage_sweeper_email: pulumi.Output[str] = self.storage_sweeper.email
        self.storage_sweeper_password: pulumi.Output[str] = pulumi.Output.secret(
            self.storage_sweeper.password
        )
        self.register_outputs({"ref": ref, "region": self.project.region, "apiUrl": self.api_url})
