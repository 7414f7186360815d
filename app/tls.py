"""The platform's outbound TLS policy: TLS 1.3 with a verified certificate, or no connection at all.

The published privacy policy promises "TLS 1.3 encryption in transit" (compliance/security_measures.yaml,
measure `tls13`). Inbound, Vercel's edge terminates TLS and the portal sends HSTS; outbound, every connection
the portal and its jobs open is built here, so the promise is kept by code rather than by the vendors'
defaults:
- HTTPS to Supabase (Auth, Storage, the signing keys) and to Brevo: `https_client()` and `tls_context()`,
  whose context refuses any protocol below TLS 1.3 and verifies the certificate chain and the host name;
- PostgreSQL (the portal's pool, the notifier's connection): `require_tls_dsn()` adds `sslmode=verify-full`,
  Supabase's root certificate as `sslrootcert` and `ssl_min_protocol_version=TLSv1.3` to the DSN and refuses a
  setting that would allow less: the server must prove it is Supabase's, for the host name dialled, so a
  machine in the middle cannot pose as the database and read the traffic (sslmode=require encrypts but trusts
  any certificate). Supabase also refuses unencrypted database connections on its side (the SslEnforcement
  resource, infra/supabase_platform.py).

Development talks to the local cluster over its Unix socket or loopback without TLS: `is_local_dsn()` says
which DSNs never leave the machine.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from pathlib import Path

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nexk.errors import NexkError

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_3
# libpq's spelling of the same floor (ssl_min_protocol_version, libpq 13 and later).
PG_MINIMUM_VERSION = "TLSv1.3"
# The only sslmode the platform accepts off this machine: TLS, a certificate chain ending at a trusted root,
# and the host name dialled in that certificate (libpq's verify-ca checks the chain but not the name).
PG_SSLMODE = "verify-full"
# "Supabase Root 2021 CA" (Supabase Inc), which signs every Supabase database and pooler certificate: the file
# the dashboard's "Download certificate" gives (prod-ca-2021.crt), with which Supabase's guide connects psql
# with sslmode=verify-full. It is public (a CA certificate), valid until 2031-04-26; tests/app/test_tls.py
# pins its SHA-256 fingerprint and says when it is about to expire. A DSN that names its own sslrootcert
# (another CA, or libpq's `system`) keeps it.
SUPABASE_ROOT_CA = Path(__file__).resolve().parent / "certs" / "supabase-root-2021-ca.pem"


class InsecureTransportError(NexkError):
    """A connection setting would allow less than TLS 1.3; the message names it and says what to set."""


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A client context that negotiates TLS 1.3 or fails, and verifies the certificate chain and host name.

    Trust: `ca_file` when given (tests, a private CA), else exactly what httpx trusts by default
    (SSL_CERT_FILE or SSL_CERT_DIR when set, else certifi's Mozilla bundle), so adopting this context raises
    the protocol floor without changing which certificate authorities are trusted.
    """
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
    else:
        context = httpx.create_ssl_context()
    context.minimum_version = MINIMUM_VERSION
    # Both are already the defaults of these factories; stated so the whole policy reads in one place.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def https_client(
    *,
    timeout: httpx.Timeout | float = 10.0,
    headers: Mapping[str, str] | None = None,
    base_url: str = "",
    transport: httpx.BaseTransport | None = None,
    ca_file: str | Path | None = None,
) -> httpx.Client:
    """The one way the platform builds an HTTP client: HTTPS only over TLS 1.3 (`tls_context`).

    TLS applies to https:// URLs, which is what every production URL is (load_settings refuses a Supabase
    URL that is not); the plain-http fakes tests run on loopback keep working. `transport` replaces the
    network layer entirely (tests' fault injection), context included.
    """
    return httpx.Client(
        verify=tls_context(ca_file),
        timeout=timeout,
        headers=headers,
        base_url=base_url,
        transport=transport,
    )


def _parse(dsn: str, name: str) -> dict[str, str]:
    try:
        return {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
    except psycopg.ProgrammingError:
        # The DSN holds a password: never echo it, or libpq's message quoting part of it, into a log.
        raise NexkError(
            f"{name} is not a PostgreSQL connection string (a postgresql:// URL or key=value pairs): "
            "check the variable's value"
        ) from None


def require_tls_dsn(dsn: str, *, name: str = "the database URL") -> str:
    """`dsn` (URL or key=value) with `sslmode=verify-full`, `sslrootcert` (Supabase's root unless the DSN names
    one), `ssl_min_protocol_version=TLSv1.3` and no GSSAPI encryption; anything weaker is refused.

    `name` is the variable the DSN came from, so the refusal says which one to fix. The result is in
    key=value form; explicit values override libpq's PGSSLMODE-style environment variables.
    """
    params = _parse(dsn, name)
    sslmode = params.setdefault("sslmode", PG_SSLMODE)
    if sslmode != PG_SSLMODE:
        weakness = (
            "which allows a connection without TLS"
            if sslmode in ("disable", "allow", "prefer")
            else "which does not check that the server is the one dialled"
        )
        raise InsecureTransportError(
            f"{name} sets sslmode={sslmode}, {weakness}, but the privacy policy promises TLS 1.3 in transit to "
            f"the database itself: set sslmode={PG_SSLMODE}, or remove sslmode and the platform sets it (with "
            "Supabase's root certificate)"
        )
    params.setdefault("sslrootcert", str(SUPABASE_ROOT_CA))
    minimum = params.setdefault("ssl_min_protocol_version", PG_MINIMUM_VERSION)
    if minimum.lower() != PG_MINIMUM_VERSION.lower():
        raise InsecureTransportError(
            f"{name} sets ssl_min_protocol_version={minimum}, below the TLS 1.3 the privacy policy promises: "
            f"set ssl_min_protocol_version={PG_MINIMUM_VERSION}, or remove it and the platform sets it"
        )
    maximum = params.get("ssl_max_protocol_version")
    if maximum is not None and maximum.lower() != PG_MINIMUM_VERSION.lower():
        raise InsecureTransportError(
            f"{name} sets ssl_max_protocol_version={maximum}, which forbids TLS 1.3: remove it"
        )
    # With a Kerberos ticket at hand, libpq's default gssencmode=prefer would encrypt with GSSAPI and skip
    # TLS altogether; the promise is TLS 1.3, so GSSAPI encryption is off.
    gssencmode = params.setdefault("gssencmode", "disable")
    if gssencmode != "disable":
        raise InsecureTransportError(
            f"{name} sets gssencmode={gssencmode}: GSSAPI encryption would replace TLS 1.3; remove it"
        )
    return make_conninfo("", **params)


def _is_local_host(host: str) -> bool:
    if not host or host.startswith(("/", "@")):  # libpq's default socket, a socket directory, an abstract one
        return True
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost: it may resolve anywhere


def is_local_dsn(dsn: str, *, name: str = "the database URL") -> bool:
    """True when every host the DSN reaches is this machine: a Unix socket (a path, or no host at all, as
    libpq defaults to the socket) or a loopback address / `localhost`. Such traffic never crosses a
    network, so it needs no TLS; any other host gets `require_tls_dsn()`.

    `hostaddr` is what libpq actually connects to when set; PGHOSTADDR / PGHOST stand in for a DSN without
    either, as they do for libpq.
    """
    params = _parse(dsn, name)
    target = (
        params.get("hostaddr")
        or params.get("host")
        or os.environ.get("PGHOSTADDR")
        or os.environ.get("PGHOST")
        or ""
    )
    return all(_is_local_host(host.strip()) for host in target.split(","))


def require_tls_unless_local(dsn: str, *, name: str = "the database URL") -> str:
    """`dsn` unchanged when it stays on this machine (`is_local_dsn`), else `require_tls_dsn(dsn)`."""
    return dsn if is_local_dsn(dsn, name=name) else require_tls_dsn(dsn, name=name)
