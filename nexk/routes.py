"""The portal's machine-facing routes that other parts configure: Vercel Cron calls the cron paths on the
schedules below (vercel.json), and the infrastructure registers the Brevo webhook at its path. The portal
mounts its routes at these paths and the infrastructure points at them, so both import them from here."""

from __future__ import annotations

# Vercel Cron: the notifications worker (one SLA scan and one outbox pass) every 5 minutes.
NOTIFICATIONS_CRON_PATH = "/api/cron/notifications"
NOTIFICATIONS_CRON_SCHEDULE = "*/5 * * * *"
# Vercel Cron: the storage sweeper (deletes the objects erasure and retention queued) hourly.
STORAGE_SWEEP_PATH = "/api/cron/storage-sweep"
STORAGE_SWEEP_SCHEDULE = "17 * * * *"
# Brevo's transactional webhook (delivery events), registered by the infrastructure on the portal's domain.
BREVO_WEBHOOK_PATH = "/api/webhooks/brevo"

# What vercel.json's "crons" must say (tests/infra/test_infra_deploy_config.py compares them).
CRONS = (
    {"path": NOTIFICATIONS_CRON_PATH, "schedule": NOTIFICATIONS_CRON_SCHEDULE},
    {"path": STORAGE_SWEEP_PATH, "schedule": STORAGE_SWEEP_SCHEDULE},
)
