"""The outbound TLS policy (app/tls.py): every connection the platform opens is TLS 1.3, or is not made.

Everything runs against a TLS server on 127.0.0.1 (tests/app/tls_testkit.py) with certificates made for this
run: one that offers only TLS 1.2, one that offers TLS 1.3, one whose certificate nobody trusts, and the
start of the PostgreSQL protocol for libpq. Controls show each server is a fair test: a client without the
policy happily settles for TLS 1.2 on the same server.
"""

from __future__ import annotations

import socket
import ssl
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pytest_httpserver import HTTPServer

from app.auth.supabase import SupabaseAuth
from app.auth.tokens import TokenVerifier
from app.notifications.brevo_client import BrevoClient, Email
from app.notifications.connection import notifier_dsn
from app.settings import load_settings
from app.storage import SupabaseStorage
from app.storage_sweep import sign_in
from app.tls import (
    SUPABASE_ROOT_CA,
    InsecureTransportError,
    https_client,
    is_local_dsn,
    require_tls_dsn,
    require_tls_unless_local,
    tls_context,
)
from nexk.errors import NexkError
from tests.app.tls_testkit import PG_REFUSAL_MESSAGE, Authority, TlsServer, make_authority

TLS_1_2 = ssl.TLSVersion.TLSv1_2
# checkov:skip=CKV_SECRET_4: a made-up pooler URL (fake project ref and password); nothing connects to it
POOLER = "postgresql://nexk_notifier.ref:s3cret@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("tls"), "trusted")


@pytest.fixture(scope="module")
def rogue(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """A certificate for 127.0.0.1 from an authority no client trusts."""
    return make_authority(tmp_path_factory.mktemp("rogue"), "rogue")


def _report(call: Callable[[], object]) -> str:
    """What the client said: its return value, or its exception with every cause, as one text."""
    try:
        return repr(call())
    except Exception as exc:
        chain: list[str] = []
        current: BaseException | None = exc
        while current is not None and len(chain) < 5:
            chain.append(f"{type(current).__name__}: {current}")
            current = current.__cause__ or current.__context__
        return " <- ".join(chain)


# ------------------------------------------------------------------------------------- the HTTPS client


def test_the_platform_client_refuses_a_server_that_only_offers_tls_1_2(authority: Authority) -> None:
    with TlsServer(authority, maximum=TLS_1_2) as server:
        with https_client(ca_file=authority.ca_file) as client, pytest.raises(httpx.ConnectError) as refused:
            client.get(f"{server.url}/")
        assert "protocol version" in str(refused.value).lower()
        assert server.outcome().version is None
        # Control: the same server is reachable by a client without the policy, over TLS 1.2.
        default = ssl.create_default_context(cafile=str(authority.ca_file))
        with httpx.Client(verify=default) as client:
            assert client.get(f"{server.url}/").status_code == 200
        assert server.outcome().version == "TLSv1.2"


def test_the_platform_client_connects_over_tls_1_3_and_gets_the_response(authority: Authority) -> None:
    with TlsServer(authority, body=b'{"answer": 42}') as server:
        with https_client(ca_file=authority.ca_file, headers={"apikey": "pk"}) as client:
            response = client.post(f"{server.url}/rest", json={"q": 1})
        assert response.json() == {"answer": 42}
        outcome = server.outcome()
        assert (outcome.version, outcome.request) == ("TLSv1.3", "POST /rest HTTP/1.1")


def test_the_platform_context_negotiates_tls_1_3_as_seen_from_the_client(authority: Authority) -> None:
    with TlsServer(authority) as server:
        context = tls_context(authority.ca_file)
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        with (
            socket.create_connection(("127.0.0.1", server.port)) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() == "TLSv1.3"
            tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 200")
        assert server.outcome().version == "TLSv1.3"


def test_the_platform_client_refuses_a_certificate_no_trusted_authority_signed(
    authority: Authority, rogue: Authority
) -> None:
    with TlsServer(rogue) as server:
        with https_client(ca_file=authority.ca_file) as client, pytest.raises(httpx.ConnectError) as refused:
            client.get(f"{server.url}/")
        assert "certificate verify failed" in str(refused.value)
        assert not server.outcome().request


def test_the_platform_client_refuses_a_certificate_for_another_host_name(tmp_path: Path) -> None:
    elsewhere = make_authority(tmp_path, "elsewhere", hosts=("db.example.test",))
    with TlsServer(elsewhere) as server:
        with https_client(ca_file=elsewhere.ca_file) as client, pytest.raises(httpx.ConnectError) as refused:
            client.get(f"{server.url}/")
        assert "certificate verify failed" in str(refused.value)
        assert "127.0.0.1" in str(refused.value)  # "IP address mismatch, certificate is not valid for ..."
        assert not server.outcome().request


def test_the_platform_clients_still_speak_plain_http_to_loopback_test_servers(httpserver: HTTPServer) -> None:
    """TLS applies to https:// URLs only: the plain-http fakes the other tests run keep working."""
    httpserver.expect_request("/auth/v1/logout", method="POST").respond_with_data("", status=204)
    httpserver.expect_request("/v3/smtp/email", method="POST").respond_with_json(
        {"messageId": "<m1>"}, status=201
    )
    with https_client() as client:
        assert client.post(httpserver.url_for("/auth/v1/logout")).status_code == 204
    brevo = BrevoClient(api_key="k", base_url=httpserver.url_for("/v3"))
    assert "m1" in repr(brevo.send(_email()))
    brevo.close()


# ------------------------------------------------------------------- every production client, as built


def _email() -> Email:
    return Email(
        notification_id=uuid.uuid4(),
        template="mynexk.ticket_reply.en",
        template_id=1,
        to_email="someone@example.test",
        to_name=None,
        params={},
        kind="ticket_reply",
    )


ATTACHMENT = f"{uuid.uuid4()}/{uuid.uuid4()}/{uuid.uuid4()}"
# Each production client built exactly as production builds it (no client or transport injected), making
# one call to `url`; the value is the start of the request line the server should see.
PRODUCTION_CLIENTS: dict[str, tuple[Callable[[str], object], str]] = {
    "supabase_auth": (
        lambda url: SupabaseAuth(url, "pk").refresh("refresh-token"),
        "POST /auth/v1/token?grant_type=refresh_token",
    ),
    "supabase_storage": (
        lambda url: SupabaseStorage(url, "pk").load({}, "access-token", ATTACHMENT),
        f"GET /storage/v1/object/authenticated/attachments/{ATTACHMENT}",
    ),
    "storage_sweeper_sign_in": (
        lambda url: sign_in(
            SupabaseAuth(url, "pk"), "sweeper@example.test", "pw", TokenVerifier(secret="s" * 32)
        ),
        "POST /auth/v1/token?grant_type=password",
    ),
    "supabase_signing_keys": (
        lambda url: TokenVerifier(jwks_url=f"{url}/auth/v1/.well-known/jwks.json", issuer="x").verify(
            jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "key-1"})
        ),
        "GET /auth/v1/.well-known/jwks.json",
    ),
    "brevo": (
        lambda url: BrevoClient(api_key="k", base_url=f"{url}/v3").send(_email()),
        "POST /v3/smtp/email",
    ),
}


@pytest.mark.parametrize("name", PRODUCTION_CLIENTS)
def test_every_production_https_client_refuses_a_server_that_only_offers_tls_1_2(
    name: str, authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clients trust this run's authority the way they trust any CA bundle: SSL_CERT_FILE. The certificate
    # is therefore valid, and the only reason left to refuse is the protocol version.
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    call, _ = PRODUCTION_CLIENTS[name]
    with TlsServer(authority, maximum=TLS_1_2) as server:
        report = _report(lambda: call(server.url))
        outcome = server.outcome()
    assert "protocol version" in report.lower(), report
    assert (outcome.version, outcome.request) == (None, None)


@pytest.mark.parametrize("name", PRODUCTION_CLIENTS)
def test_every_production_https_client_reaches_a_tls_1_3_server(
    name: str, authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    call, request = PRODUCTION_CLIENTS[name]
    # A refusal answer (400) is enough: what matters is that the request arrived over TLS 1.3.
    with TlsServer(authority, status=400, body=b'{"error": "invalid_grant"}') as server:
        _report(lambda: call(server.url))
        outcome = server.outcome()
    assert outcome.version == "TLSv1.3"
    assert outcome.request is not None and outcome.request.startswith(request)


# ------------------------------------------------------------------------------- PostgreSQL connections


def test_the_dsn_helper_adds_verify_full_supabase_s_root_and_tls_1_3_to_a_url() -> None:
    params = psycopg.conninfo.conninfo_to_dict(require_tls_dsn(POOLER))
    assert params == {
        "user": "nexk_notifier.ref",
        "password": "s3cret",
        "host": "aws-0-eu-central-1.pooler.supabase.com",
        "port": "6543",
        "dbname": "postgres",
        "sslmode": "verify-full",
        "sslrootcert": str(SUPABASE_ROOT_CA),
        "ssl_min_protocol_version": "TLSv1.3",
        "gssencmode": "disable",
    }


def test_the_dsn_helper_adds_them_to_a_key_value_dsn() -> None:
    dsn = require_tls_dsn(
        # checkov:skip=CKV_SECRET_6: a made-up password, to show quoting survives; nothing connects to it
        "host=db.ref.supabase.co port=5432 user=nexk_portal password='a b' dbname=postgres"
    )
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    assert params["password"] == "a b"
    assert (params["sslmode"], params["ssl_min_protocol_version"]) == ("verify-full", "TLSv1.3")


def test_the_dsn_helper_keeps_verify_full_and_a_root_certificate_the_dsn_names(tmp_path: Path) -> None:
    own_ca = tmp_path / "private-ca.pem"
    params = psycopg.conninfo.conninfo_to_dict(
        require_tls_dsn(f"{POOLER}?sslmode=verify-full&sslrootcert={own_ca}")
    )
    assert (params["sslmode"], params["sslrootcert"]) == ("verify-full", str(own_ca))


@pytest.mark.parametrize("mode", ["require", "verify-ca"])
def test_the_dsn_helper_refuses_an_sslmode_that_does_not_check_the_host_name(mode: str) -> None:
    with pytest.raises(InsecureTransportError) as refused:
        require_tls_dsn(f"{POOLER}?sslmode={mode}", name="DATABASE_URL")
    message = str(refused.value)
    assert (
        f"DATABASE_URL sets sslmode={mode}, which does not check that the server is the one dialled"
        in message
    )
    assert "set sslmode=verify-full" in message


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_the_dsn_helper_refuses_an_sslmode_that_allows_plain_text_and_says_what_to_set(mode: str) -> None:
    with pytest.raises(InsecureTransportError) as refused:
        require_tls_dsn(f"{POOLER}?sslmode={mode}", name="DATABASE_URL")
    message = str(refused.value)
    assert f"DATABASE_URL sets sslmode={mode}" in message
    assert "set sslmode=verify-full" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("setting", "advice"),
    [
        ("ssl_min_protocol_version=TLSv1.2", "set ssl_min_protocol_version=TLSv1.3"),
        ("ssl_max_protocol_version=TLSv1.2", "remove it"),
        ("gssencmode=prefer", "remove it"),
    ],
)
def test_the_dsn_helper_refuses_settings_that_would_allow_less_than_tls_1_3(
    setting: str, advice: str
) -> None:
    with pytest.raises(InsecureTransportError, match=advice):
        require_tls_dsn(f"host=db.example.test {setting}", name="DATABASE_URL")


def test_an_unparsable_dsn_is_refused_without_echoing_its_password() -> None:
    with pytest.raises(NexkError, match="DATABASE_URL is not a PostgreSQL connection string") as refused:
        require_tls_dsn("host=db.example.test password=s3cret = oops", name="DATABASE_URL")
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    ("dsn", "local"),
    [
        ("postgresql://postgres@127.0.0.1:54322/postgres", True),
        ("postgresql://postgres@localhost/postgres", True),
        ("postgresql://postgres@[::1]:5432/postgres", True),
        ("host=/tmp dbname=postgres", True),
        ("dbname=postgres", True),  # libpq's default: the Unix socket
        ("host=db.example.test hostaddr=127.0.0.1", True),  # hostaddr is where libpq connects
        (POOLER, False),
        ("host=127.0.0.1,db.example.test", False),  # every host must be local
        ("host=10.0.0.5", False),
    ],
)
def test_only_unix_sockets_and_loopback_count_as_local(
    dsn: str, local: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.delenv("PGHOSTADDR", raising=False)
    assert is_local_dsn(dsn) is local
    assert (require_tls_unless_local(dsn) == dsn) is local


def _pg_dsn(server: TlsServer, authority: Authority | None) -> str:
    # sslrootcert: the test authority signed the server's certificate for 127.0.0.1, so with it only the
    # protocol decides; without one, the policy's default (Supabase's root) is what the server must satisfy.
    dsn = f"host=127.0.0.1 port={server.port} user=u dbname=d connect_timeout=10"
    return f"{dsn} sslrootcert={authority.ca_file}" if authority else dsn


def test_libpq_with_the_policy_refuses_a_postgres_server_that_only_offers_tls_1_2(
    authority: Authority,
) -> None:
    with TlsServer(authority, maximum=TLS_1_2, protocol="postgres") as server:
        dsn = _pg_dsn(server, authority)
        with pytest.raises(psycopg.OperationalError, match="protocol version"):
            psycopg.connect(require_tls_dsn(dsn))
        assert server.outcome().version is None
        # Control: libpq's own default (TLS 1.2 minimum) would have settled for TLS 1.2 here.
        with pytest.raises(psycopg.OperationalError, match=PG_REFUSAL_MESSAGE):
            psycopg.connect(f"{dsn} sslmode=require")
        assert server.outcome().version == "TLSv1.2"


def test_libpq_with_the_policy_connects_to_a_postgres_server_over_tls_1_3(authority: Authority) -> None:
    with TlsServer(authority, protocol="postgres") as server:
        # The test server ends every session with its own error, after the startup packet came over TLS.
        with pytest.raises(psycopg.OperationalError, match=PG_REFUSAL_MESSAGE):
            psycopg.connect(require_tls_dsn(_pg_dsn(server, authority)))
        outcome = server.outcome()
    assert (outcome.version, outcome.request) == ("TLSv1.3", "startup")


def test_libpq_with_the_policy_trusts_only_supabase_s_root_by_default(authority: Authority) -> None:
    """A server whose certificate another authority signed (a machine in the middle) gets no startup packet."""
    with TlsServer(authority, protocol="postgres") as server:
        with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
            psycopg.connect(require_tls_dsn(_pg_dsn(server, None)))
        assert server.outcome().request is None


def test_libpq_with_the_policy_refuses_a_certificate_for_another_host_name(tmp_path: Path) -> None:
    elsewhere = make_authority(tmp_path, "elsewhere", hosts=("db.elsewhere.test",))
    with TlsServer(elsewhere, protocol="postgres") as server:
        with pytest.raises(psycopg.OperationalError, match="does not match host name"):
            psycopg.connect(require_tls_dsn(_pg_dsn(server, elsewhere)))
        assert server.outcome().request is None


def test_the_bundled_root_is_supabase_s_and_has_over_a_year_to_run() -> None:
    """The fingerprint published with Supabase's prod-ca-2021.crt; a year before it expires this fails, so
    the new root is bundled in time."""
    certificate = x509.load_pem_x509_certificate(SUPABASE_ROOT_CA.read_bytes())
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    assert fingerprint == "807025ad50d4ed219d2c9c7d299c004f824eb00cf7f65afef607d07b72e6cafa"
    assert certificate.subject.rfc4514_string().startswith("CN=Supabase Root 2021 CA,O=Supabase Inc")
    assert certificate.not_valid_after_utc - datetime.now(UTC) > timedelta(days=365)


def test_libpq_with_the_policy_refuses_a_postgres_server_without_tls(authority: Authority) -> None:
    with TlsServer(authority, protocol="postgres", offer_tls=False) as server:
        with pytest.raises(psycopg.OperationalError, match="SSL was required"):
            psycopg.connect(require_tls_dsn(_pg_dsn(server, authority)))
        assert server.outcome().error == "no TLS"


# ------------------------------------------------------------------------ where the platform applies it

PROD_ENV = {
    "NEXK_ENV": "prod",
    "SUPABASE_URL": "https://ref.supabase.co",
    "SUPABASE_PUBLISHABLE_KEY": "sb_publishable_x",
    "NEXK_SESSION_SECRET": "x" * 48,
}


def test_production_settings_require_tls_1_3_on_the_portal_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**PROD_ENV, "NEXK_PORTAL_DATABASE_URL": POOLER}.items():
        monkeypatch.setenv(name, value)
    params = psycopg.conninfo.conninfo_to_dict(load_settings().database_url)
    assert (params["sslmode"], params["ssl_min_protocol_version"]) == ("verify-full", "TLSv1.3")
    monkeypatch.setenv("NEXK_PORTAL_DATABASE_URL", f"{POOLER}?sslmode=prefer")
    with pytest.raises(InsecureTransportError, match="NEXK_PORTAL_DATABASE_URL sets sslmode=prefer"):
        load_settings()


def test_production_settings_name_the_renamed_database_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Vercel project still holding the old DATABASE_URL (the owner's pooler URL) is told what replaced it."""
    for name, value in {**PROD_ENV, "DATABASE_URL": POOLER}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NEXK_PORTAL_DATABASE_URL", raising=False)
    with pytest.raises(NexkError, match=r"NEXK_PORTAL_DATABASE_URL: DATABASE_URL .* is no longer read"):
        load_settings()


def test_production_settings_refuse_a_supabase_url_that_is_not_https(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        **PROD_ENV,
        "NEXK_PORTAL_DATABASE_URL": POOLER,
        "SUPABASE_URL": "http://ref.supabase.co",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(NexkError, match="SUPABASE_URL must start with https://"):
        load_settings()


def test_dev_settings_leave_the_local_cluster_dsn_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    local = "postgresql://nexk_portal@127.0.0.1:54322/postgres"
    monkeypatch.setenv("NEXK_ENV", "dev")
    monkeypatch.setenv("NEXK_DATABASE_URL", "postgresql://postgres@127.0.0.1:54322/postgres")
    monkeypatch.setenv("NEXK_PORTAL_DATABASE_URL", local)
    monkeypatch.setenv("NEXK_SESSION_SECRET", "x" * 48)
    assert load_settings().database_url == local


def test_the_notifier_connection_requires_tls_1_3_off_this_machine_and_not_on_loopback() -> None:
    params = psycopg.conninfo.conninfo_to_dict(notifier_dsn({"NEXK_WORKER_DATABASE_URL": POOLER}))
    assert (params["sslmode"], params["ssl_min_protocol_version"]) == ("verify-full", "TLSv1.3")
    local = "postgresql://postgres@127.0.0.1:54322/postgres"
    assert notifier_dsn({"NEXK_WORKER_DATABASE_URL": local}) == local
    with pytest.raises(InsecureTransportError, match="NEXK_WORKER_DATABASE_URL sets sslmode=disable"):
        notifier_dsn({"NEXK_WORKER_DATABASE_URL": f"{POOLER}?sslmode=disable"}, local_fallback=False)
