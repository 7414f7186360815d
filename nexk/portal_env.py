"""The names of the environment variables the infrastructure sets on the portal's Vercel project and the
portal reads: one spelling for both sides (infra/program.py writes them, app/ reads them)."""

from __future__ import annotations

SUPABASE_URL = "SUPABASE_URL"
SUPABASE_PUBLISHABLE_KEY = "SUPABASE_PUBLISHABLE_KEY"
# The request pool's login `nexk_portal` (db/schema/0375), through Supavisor; the same name in dev.
PORTAL_DATABASE_URL = "NEXK_PORTAL_DATABASE_URL"
WORKER_DATABASE_URL = "NEXK_WORKER_DATABASE_URL"  # role nexk_notifier: the cron and webhook routes only
PORTAL_URL = "NEXK_PORTAL_URL"  # links in e-mails
BREVO_API_KEY = "BREVO_API_KEY"
BREVO_TEMPLATE_IDS = "BREVO_TEMPLATE_IDS"  # JSON: template name -> Brevo template id
BREVO_WEBHOOK_TOKEN = "BREVO_WEBHOOK_TOKEN"  # noqa: S105 (a variable name, not a secret)
# The name Vercel Cron reads: it sends `Authorization: Bearer <value>` to the cron paths.
CRON_SECRET = "CRON_SECRET"  # noqa: S105 (a variable name, not a secret)
STORAGE_SWEEPER_EMAIL = "NEXK_STORAGE_SWEEPER_EMAIL"
STORAGE_SWEEPER_PASSWORD = "NEXK_STORAGE_SWEEPER_PASSWORD"  # noqa: S105 (a variable name, not a secret)
