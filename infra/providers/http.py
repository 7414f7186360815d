"""The one HTTP helper the vendor providers share: retries, backoff and errors that name the resource.

A `VendorApi` holds only plain data (base URL, vendor name, retry knobs), so it can live on a dynamic provider
that Pulumi pickles with dill. The token is passed per call and a `requests.Session` is opened per call:
neither ever ends up in the pickled provider or in the state file.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from infra.providers.transport import requests_session

RETRYABLE = frozenset({429, 500, 502, 503, 504})


class VendorApiError(Exception):
    """A vendor API call failed; the message names the vendor, the resource and the API's own message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MissingTokenError(VendorApiError):
    """No API token was configured for the vendor."""


def api_message(response: requests.Response) -> str:
    """The human part of an error response (vendors use `message`, `msg`, `error` or `code`)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason
    if isinstance(body, Mapping):
        for key in ("message", "msg", "error_description", "error", "code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return str(body)[:500]


@dataclass
class VendorApi:
    """A base URL plus the retry policy; `call()` does the rest."""

    vendor: str
    base_url: str
    auth_header: str
    auth_prefix: str = ""
    # Headers that carry the token as is, besides `auth_header` (Supabase's gateway also wants `apikey`).
    extra_token_headers: tuple[str, ...] = ()
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 60.0

    def call(
        self,
        token: str | None,
        method: str,
        path: str,
        *,
        resource: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """Send one request; returns the decoded JSON (or None for an empty body / a tolerated 404).

        429 and 5xx are retried with exponential backoff (honouring Retry-After); anything else that is not
        2xx raises VendorApiError naming `resource` and the API's message. With `missing_ok`, a 404 returns
        None: that is how delete treats an object that is already gone.
        """
        if not token:
            raise MissingTokenError(
                f"{self.vendor} {resource}: no API token configured (see docs/ops.md, tokens)"
            )
        url = self.base_url.rstrip("/") + path
        headers = {self.auth_header: f"{self.auth_prefix}{token}", "accept": "application/json"}
        headers.update(dict.fromkeys(self.extra_token_headers, token))
        attempt = 0
        with requests_session() as session:
            while True:
                attempt += 1
                try:
                    response = session.request(
                        method, url, json=json, params=params, headers=headers, timeout=self.timeout_seconds
                    )
                except requests.ConnectionError as exc:
                    if attempt >= self.max_attempts:
                        raise VendorApiError(
                            f"{self.vendor} {resource}: {method} {path} could not reach {self.base_url}: {exc}"
                        ) from exc
                    self._sleep(attempt, None)
                    continue
                if response.status_code in RETRYABLE and attempt < self.max_attempts:
                    self._sleep(attempt, response.headers.get("Retry-After"))
                    continue
                if response.status_code == 404 and missing_ok:
                    return None
                if not response.ok:
                    raise VendorApiError(
                        f"{self.vendor} {resource}: {method} {path} failed with HTTP {response.status_code}: "
                        f"{api_message(response)}",
                        status=response.status_code,
                    )
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    return response.text

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), self.max_backoff_seconds)
        time.sleep(delay)
