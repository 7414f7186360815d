"""System accounts: GoTrue users that act for a job, recognised by a claim only the service role can write.

The infrastructure creates the storage sweeper's account with `app_metadata = STORAGE_SWEEPER_APP_METADATA`;
the portal's sweeper refuses to sign in as any account without it, and the storage policies let exactly this
identity delete queued objects (`private.is_storage_sweeper()`)."""

from __future__ import annotations

SYSTEM_CLAIM = "nexk_system"  # the app_metadata key
STORAGE_SWEEPER = "storage_sweeper"
STORAGE_SWEEPER_APP_METADATA = {SYSTEM_CLAIM: STORAGE_SWEEPER}
