"""The one HTTP helper the vendor providers share: retries that never duplicate, waits that follow the vendor.

A `VendorApi` holds only plain data (base URL, vendor name, retry knobs), so it can live on a dynamic provider
that Pulumi pickles with dill. The token is passed per call and a `requests.Session` is opened per call:
neither ever ends up in the pickled provider or in the state file.

Retry rules:
- **429** is retried for every method: the vendor refused the request, nothing was done. The wait is the
  vendor's own: `Retry-After` when sent, else Supabase's `x-ratelimit-reset` (seconds until the rate-limit
  window starts again; the Supabase CLI's recorded API answers carry `x-ratelimit-limit: 120`,
  `x-ratelimit-remaining`, `x-ratelimit-reset: 60`..`58`, apps/cli-e2e/fixtures/recorded/*), up to
  `max_rate_limit_wait_seconds` in all, so a blocked minute is waited out instead of failing after seconds.
- **5xx and dropped connections** are retried only for idempotent requests (GET, PUT, PATCH that sets values,
  DELETE, and a POST the caller marks idempotent such as a full replace). A create (POST) that failed this way
  may have been committed before the error: it raises `OutcomeUnknownError`, and the provider looks the object
  up (by name, e-mail, ...) and adopts it instead of creating a second, billed one. The official Terraform
  provider does the same: it retries only GETs (`internal/provider/provider.go`, `getOnlyRetryPolicy`).

urllib3's `Retry` (requests' `HTTPAdapter(max_retries=Retry(...))`) was evaluated and is not used (urllib3 2.8,
`urllib3/util/retry.py`):
- it lives in the `HTTPAdapter`, and the tests and `nexk infra rehearse` replace that adapter with the vendor
  simulators (`infra/providers/transport.py`, `routed_to`): the retry rules would no longer run in any test;
- it waits with `time.sleep` (`Retry.sleep_for_retry`, `Retry._sleep_backoff`), while tests and rehearsals wait
  on a virtual clock, and it reads only `Retry-After` (`Retry.get_retry_after`), not `x-ratelimit-reset`;
- it counts attempts, whereas a 429 here is bounded by the total time waited (`max_rate_limit_wait_seconds`,
  two rate-limit windows), and a create's 5xx must become `OutcomeUnknownError` (adopt, never re-create),
  which it would only hand back as a plain response or `MaxRetryError`.
Overriding those three methods and wrapping its errors would leave a subclass as long as this loop and
untested by the rehearsals, so the loop stays. Brevo's calls go through its SDK (httpx), which urllib3's
`Retry` never sees; `infra/providers/brevo.py` applies the same rules there with `x-sib-ratelimit-reset`.

Every wait goes through a `Clock` (`monotonic()` and `sleep()`): the real one in production, a simulator's
virtual clock in tests and rehearsals (`using_clock(...)`, or `VendorApi(clock=...)`), so nothing really sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from infra.providers.transport import requests_session

SERVER_ERRORS = frozenset({500, 502, 503, 504})
RATE_LIMITED = 429
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (production)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
_clock_override: list[Clock] = []


@contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    """Every `VendorApi` without a clock of its own waits on `clock` while the block runs (simulators)."""
    _clock_override.append(clock)
    try:
        yield
    finally:
        _clock_override.pop()


def active_clock() -> Clock:
    return _clock_override[-1] if _clock_override else SYSTEM_CLOCK


class VendorApiError(Exception):
    """A vendor API call failed; the message names the vendor, the resource and the API's own message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MissingTokenError(VendorApiError):
    """No API token was configured for the vendor."""


class OutcomeUnknownError(VendorApiError):
    """A non-idempotent request (a create) failed with a 5xx or a dropped connection: it may have been committed.

    Never retried blindly; the caller looks the object up and adopts it, or tells ops what to check.
    """


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


def rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds the vendor asks us to wait: `Retry-After`, else Supabase's `x-ratelimit-reset`; None if neither."""
    for name in ("Retry-After", "x-ratelimit-reset"):
        value = (headers.get(name) or "").strip()
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


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
    # Two 60-second windows of Supabase's Management API limit, plus margin.
    max_rate_limit_wait_seconds: float = 150.0
    timeout_seconds: float = 60.0
    clock: Clock | None = None

    @property
    def active_clock(self) -> Clock:
        return self.clock or active_clock()

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
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request; returns the decoded JSON (or None for an empty body / a tolerated 404).

        See the module docstring for what is retried. Anything else that is not 2xx raises VendorApiError naming
        `resource` and the API's message. With `missing_ok`, a 404 returns None: that is how delete treats an
        object that is already gone. `idempotent` defaults to "every method but POST".
        """
        if not token:
            raise MissingTokenError(
                f"{self.vendor} {resource}: no API token configured (see docs/ops.md, tokens)"
            )
        method = method.upper()
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self.base_url.rstrip("/") + path
        headers = {self.auth_header: f"{self.auth_prefix}{token}", "accept": "application/json"}
        headers.update(dict.fromkeys(self.extra_token_headers, token))
        clock = self.active_clock
        failures = 0
        rate_limited_for = 0.0
        with requests_session() as session:
            while True:
                try:
                    response = session.request(
                        method, url, json=json, params=params, headers=headers, timeout=self.timeout_seconds
                    )
                except requests.ConnectionError as exc:
                    failures += 1
                    where = f"{self.vendor} {resource}: {method} {path}"
                    if not repeatable:
                        raise OutcomeUnknownError(
                            f"{where}: the connection to {self.base_url} failed ({exc}); the request may have "
                            "been carried out"
                        ) from exc
                    if failures >= self.max_attempts:
                        raise VendorApiError(f"{where} could not reach {self.base_url}: {exc}") from exc
                    clock.sleep(self._backoff(failures))
                    continue
                status = response.status_code
                if status == RATE_LIMITED:
                    wait = rate_limit_wait(response.headers)
                    if wait is None:
                        wait = self._backoff(failures + 1)
                    if rate_limited_for + wait <= self.max_rate_limit_wait_seconds:
                        rate_limited_for += wait
                        clock.sleep(wait)
                        continue
                if status in SERVER_ERRORS:
                    failures += 1
                    if not repeatable:
                        raise OutcomeUnknownError(
                            f"{self.vendor} {resource}: {method} {path} failed with HTTP {status}: "
                            f"{api_message(response)}; the request may have been carried out",
                            status=status,
                        )
                    if failures < self.max_attempts:
                        clock.sleep(self._backoff(failures))
                        continue
                if status == 404 and missing_ok:
                    return None
                if not response.ok:
                    extra = ""
                    if status == RATE_LIMITED:
                        extra = (
                            f" (still rate limited after waiting {rate_limited_for:.0f}s; run again later)"
                        )
                    raise VendorApiError(
                        f"{self.vendor} {resource}: {method} {path} failed with HTTP {status}: "
                        f"{api_message(response)}{extra}",
                        status=status,
                    )
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    return response.text

    def _backoff(self, failures: int) -> float:
        return min(self.backoff_seconds * 2 ** (failures - 1), self.max_backoff_seconds)

    def wait_until(
        self,
        what: str,
        probe: Any,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        hint: Any,
    ) -> Any:
        """Call `probe()` until it returns something other than None; raise naming `what` after the timeout.

        `probe` may raise VendorApiError to stop at once (a terminal state). `hint` (a string, or a function
        returning one, e.g. naming the last state seen) says what ops should do.
        """
        clock = self.active_clock
        deadline = clock.monotonic() + timeout_seconds
        while True:
            result = probe()
            if result is not None:
                return result
            if clock.monotonic() >= deadline:
                advice = hint() if callable(hint) else hint
                raise VendorApiError(
                    f"{self.vendor} {what}: not ready after {timeout_seconds:.0f}s; {advice}"
                )
            clock.sleep(poll_seconds)
