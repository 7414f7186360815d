"""Helpers for the infrastructure tests (a uniquely named module: test folders have no __init__.py)."""

from __future__ import annotations

from typing import TypeVar

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from infra.providers.base import TokenProvider

P = TypeVar("P", bound=TokenProvider)

TOKEN = "test-token-123"


def configure(provider: P, token: str = TOKEN) -> P:
    """Configure a provider the way the dynamic provider host does: from the stack's config."""
    provider.configure(
        ConfigureRequest(Config({f"nexk:{provider.token_config_key}": token}, project_name="nexk"))
    )
    return provider
