"""A TLS server on 127.0.0.1 for the transport tests: certificates made at test time, chosen protocol versions.

`TlsServer` answers each connection in a background thread and reports what happened (`outcome()`): the
negotiated TLS version and the request line, or the handshake's failure. It speaks either HTTP (one
request, one canned response, `Connection: close`) or the start of the PostgreSQL protocol (it answers the
SSLRequest with `S`, or `N` to refuse TLS, then handshakes and closes after the startup packet), so the same
server judges httpx, urllib and libpq.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import queue
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PG_SSL_REQUEST = struct.pack("!ii", 8, 80877103)
# A PostgreSQL ErrorResponse the client shows as its error: proof the startup packet arrived over TLS.
PG_REFUSAL_MESSAGE = "tls test server: TLS handshake completed"
_FIELDS = b"SFATAL\0C28000\0M" + PG_REFUSAL_MESSAGE.encode() + b"\0\0"
PG_HANDSHAKE_DONE = b"E" + struct.pack("!i", 4 + len(_FIELDS)) + _FIELDS


@dataclass(frozen=True)
class Authority:
    """A certificate authority made for one test session, and a server certificate it signed."""

    ca_file: Path  # what a client trusts
    cert_file: Path  # the server's certificate
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def make_authority(
    folder: Path, label: str, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> Authority:
    """A fresh CA and a server certificate for `hosts` (IP addresses or DNS names), written under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{label} test CA"))
        .issuer_name(_name(f"{label} test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / f"{label}-ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = folder / f"{label}-server.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(ca_file, cert_file, _write_key(key, folder / f"{label}-server.key"))


@dataclass(frozen=True)
class Outcome:
    version: str | None  # the negotiated protocol ("TLSv1.3"), None when no handshake completed
    request: str | None  # HTTP: the request line; PostgreSQL: "startup"
    error: str | None  # why the handshake failed, or "no TLS" when the server refused TLS


class TlsServer:
    """One listening socket on 127.0.0.1; use as a context manager. `url` is its https:// base URL."""

    def __init__(
        self,
        authority: Authority,
        *,
        maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
        protocol: Literal["http", "postgres"] = "http",
        offer_tls: bool = True,
        status: int = 200,
        body: bytes = b'{"ok": true}',
    ) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.maximum_version = maximum
        self._context.load_cert_chain(authority.cert_file, authority.key_file)
        self._protocol = protocol
        self._offer_tls = offer_tls
        self._response = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + body
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, name="tls-test-server", daemon=True)

    def __enter__(self) -> TlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # shutdown() wakes the blocked accept(); close() alone would not.
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def outcome(self) -> Outcome:
        """What the next connection came to (waits for the server thread to record it)."""
        return self._outcomes.get(timeout=10)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                self._outcomes.put(self._handle(conn))

    def _handle(self, conn: socket.socket) -> Outcome:
        if self._protocol == "postgres":
            if conn.recv(8) != PG_SSL_REQUEST:
                return Outcome(None, None, "the client did not ask for TLS")
            if not self._offer_tls:
                conn.sendall(b"N")
                return Outcome(None, None, "no TLS")
            conn.sendall(b"S")
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            return Outcome(None, None, str(exc))
        with tls:
            version = tls.version()
            request = "startup" if self._protocol == "postgres" else None
            try:
                if self._protocol == "postgres":
                    # The startup packet, carried by TLS: answered with a recognisable refusal. A client that
                    # rejects the certificate after the handshake (a host name check) hangs up instead.
                    if not tls.recv(4096):
                        return Outcome(version, None, "the client closed the connection after the handshake")
                    tls.sendall(PG_HANDSHAKE_DONE)
                else:
                    request = _read_request_line(tls)
                    tls.sendall(self._response)
            except (ssl.SSLError, OSError) as exc:
                return Outcome(version, request, str(exc))  # the handshake succeeded, the exchange did not
            return Outcome(version, request, None)


def _read_request_line(tls: ssl.SSLSocket) -> str:
    """Reads one whole HTTP request (so closing never resets the response) and returns its first line."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = tls.recv(4096)
        if not chunk:
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        chunk = tls.recv(4096)
        if not chunk:
            break
        body += chunk
    return lines[0].decode()
