"""Load test of the portal: the ticket list page and the ticket API under concurrent clients.

    python -m bench.portal_load [--clients 32] [--seconds 20] [--workers 2]

Against the database in NEXK_DATABASE_URL (owner DSN, used here only to pick sample users) or the local
cluster, with NEXK_PORTAL_DATABASE_URL (or the local cluster's nexk_portal login) for the portal itself. It starts
uvicorn in a separate process with a throw-away signing secret, mints access tokens for sampled client
admins (each sees every ticket of an organization of ~1,000 tickets), then drives `GET /tickets` (cookie
session) and `GET /api/tickets` (bearer) from this process with N concurrent clients. It reports p50, p95,
requests per second, the server's own time (Server-Timing header), and the bare SQL time of the list query
run the same way (nexk_portal, `set local role authenticated`, local claims), and writes the Markdown table
to stdout.

The reference figures (bench/results/portal.md) now come from bench/portal_wrk.py: wrk as the client, so the
load generator does not compete for the two cores. This script stays for its helpers and as a cross-check.
Its old "52 ms with one client, 7 ms with curl" was the server, not httpx: with `--workers 2` and the plain
asyncio loop, uvicorn's inherited listening socket has proto 0, asyncio then skips TCP_NODELAY, and every
keep-alive response (headers and body written separately) waits ~40 ms for the client's delayed ACK. wrk
shows the same 52-56 ms; uvloop (which always sets TCP_NODELAY) or one worker makes it 7 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.auth.tokens import mint_access_token
from app.database import Database
from app.queries import tickets as q
from nexk.portal_env import PORTAL_DATABASE_URL
from nexk.portal_login import PORTAL_LOGIN

ROOT = Path(__file__).resolve().parents[1]


def owner_and_portal_urls() -> tuple[str, str]:
    """The owner DSN (sampling users) and the portal's login DSN (nexk_portal, db/schema/0375)."""
    from db.cluster import LocalCluster

    owner = os.environ.get("NEXK_DATABASE_URL")
    portal = os.environ.get(PORTAL_DATABASE_URL)
    config = LocalCluster().load_config()
    if owner is None:
        if config is None:
            raise SystemExit("No database: start it with `nexk db start` or set NEXK_DATABASE_URL.")
        owner = config.url
    if portal is None:
        if config is None:
            raise SystemExit(f"Set {PORTAL_DATABASE_URL} (the {PORTAL_LOGIN} DSN of that database).")
        portal = make_conninfo(owner, user=PORTAL_LOGIN, password=config.portal_password)
    return owner, portal


def sample_users(owner_url: str, count: int, seed: int) -> list[tuple[str, str]]:
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "select p.id::text, p.email::text from public.profiles as p where p.role = 'client_admin' order by p.id"
        ).fetchall()
        tickets = conn.execute("select count(*) from public.tickets").fetchone()[0]
        orgs = conn.execute("select count(*) from public.organizations").fetchone()[0]
    if not rows:
        raise SystemExit("No client admins in that database: seed it first (nexk db seed --orgs 1000 ...).")
    print(f"world: {orgs:,} organizations, {tickets:,} tickets, {len(rows):,} client admins", file=sys.stderr)
    return random.Random(seed).sample(rows, min(count, len(rows)))


def live_session(owner_url: str, user_id: str) -> str:
    """A session row for a minted token: the portal refuses tokens whose session does not exist
    (app/auth/live_sessions.py), as GoTrue does."""
    session_id = str(uuid.uuid4())
    with psycopg.connect(owner_url) as conn:
        conn.execute(
            "insert into auth.sessions (id, user_id, aal) values (%s, %s, 'aal1')", (session_id, user_id)
        )
    return session_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Series:
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    def pct(self, values: list[float], p: float) -> float:
        ordered = sorted(values)
        return (
            ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")
        )


def _server_timing(response: httpx.Response) -> dict[str, float]:
    """{'app': ms, 'db': ms} from `Server-Timing: db;dur=1.2, app;dur=3.4`."""
    found = {}
    for part in response.headers.get("server-timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            found[name] = float(duration)
    return found


async def drive(base: str, requests: list[dict], clients: int, seconds: float) -> Series:
    series = Series()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(index: int) -> None:
            rng = random.Random(index)
            while time.perf_counter() < deadline:
                spec = rng.choice(requests)
                started = time.perf_counter()
                response = await client.get(spec["path"], headers=spec["headers"])
                series.latencies_ms.append((time.perf_counter() - started) * 1000)
                timing = _server_timing(response)
                if "app" in timing:
                    series.server_ms.append(timing["app"])
                    series.db_ms.append(timing.get("db", 0.0))
                if response.status_code != 200:
                    series.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        series.elapsed_s = time.perf_counter() - started
    return series


def bare_sql_ms(portal_url: str, users: list[tuple[str, str]], repeats: int) -> list[float]:
    """The list query alone, run exactly as a request runs it (RLS transaction), timed around execute."""
    database = Database(portal_url, min_size=1, max_size=1)
    database.open()
    timings = []
    try:
        for i in range(repeats):
            user_id, email = users[i % len(users)]
            claims = {"sub": user_id, "role": "authenticated", "aal": "aal1", "email": email}
            with database.rls_transaction(claims, read_only=True) as conn:
                started = time.perf_counter()
                q.list_tickets(conn, q.TicketFilter(), "client_admin")
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        database.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    owner_url, portal_url = owner_and_portal_urls()
    users = sample_users(owner_url, args.users, args.seed)
    secret = secrets.token_urlsafe(48)
    port = free_port()
    env = {
        **os.environ,
        "NEXK_ENV": "dev",
        "NEXK_DATABASE_URL": owner_url,
        PORTAL_DATABASE_URL: portal_url,
        "NEXK_SESSION_SECRET": secret,
        "NEXK_INSECURE_COOKIES": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait for the port (start-up includes opening the pools)
            try:
                if httpx.get(f"{base}/auth/sign-in", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        tokens = [
            mint_access_token(
                secret,
                user_id=uid,
                email=email,
                session_id=live_session(owner_url, uid),
                aal="aal1",
                amr=[],
                lifetime=3600,
            )[0]
            for uid, email in users
        ]
        page = [{"path": "/tickets", "headers": {"Cookie": f"nexk_access={t}"}} for t in tokens]
        api = [{"path": "/api/tickets", "headers": {"Authorization": f"Bearer {t}"}} for t in tokens]
        asyncio.run(drive(base, page, 4, 3))  # warm-up: pools, caches, JIT of the plans
        single = asyncio.run(drive(base, page, 1, min(10, args.seconds)))
        results = {
            "ticket list page (GET /tickets)": asyncio.run(drive(base, page, args.clients, args.seconds)),
            "ticket API (GET /api/tickets)": asyncio.run(drive(base, api, args.clients, args.seconds)),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    sql = bare_sql_ms(portal_url, users, 300)

    host = conninfo_to_dict(owner_url).get("dbname")
    print(f"\n## Portal load: {args.clients} concurrent clients, {args.seconds:.0f} s each, "
          f"{args.workers} uvicorn workers, database `{host}`\n")  # fmt: skip
    print("| endpoint | requests | errors | req/s | p50 ms | p95 ms | server p50 ms | server p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s in results.items():
        print(f"| {name} | {len(s.latencies_ms):,} | {s.errors} | {len(s.latencies_ms) / s.elapsed_s:.0f} | "
              f"{s.pct(s.latencies_ms, 50):.1f} | {s.pct(s.latencies_ms, 95):.1f} | "
              f"{s.pct(s.server_ms, 50):.1f} | {s.pct(s.server_ms, 95):.1f} |")  # fmt: skip
    sql_p50 = statistics.median(sql)
    single_server = statistics.median(single.server_ms)
    print(f"\nOne client (no queueing): page p50 {single.pct(single.latencies_ms, 50):.1f} ms, "
          f"server time p50 {single_server:.2f} ms, of which in the RLS transaction (db) "
          f"{statistics.median(single.db_ms):.2f} ms.")  # fmt: skip
    print(f"Bare list query (same RLS transaction, {len(sql)} runs): p50 {sql_p50:.2f} ms, "
          f"p95 {Series().pct(sql, 95):.2f} ms.")  # fmt: skip
    print(f"Page server time / bare query time (p50, one client): {single_server / sql_p50:.2f}x")
    load = os.getloadavg()
    print(f"Machine load average during the run (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          f"on {os.cpu_count()} CPUs.")  # fmt: skip


if __name__ == "__main__":
    main()
