"""Load test of the portal with `wrk` as the client: the ticket list page and the ticket API, closed loop.

    python -m bench.portal_wrk [--clients 8 32] [--seconds 20] [--workers 1] [--users 200]

Why wrk: a Python load generator on the same two cores competes with the server for CPU and measures its own
event loop as much as the portal (bench/portal_load.py's httpx client saw 52 ms with one client where curl
saw 7 ms). wrk is C, one thread per core, a few percent of a core at these rates.

What it does, against the database in NEXK_DATABASE_URL (owner DSN, only to pick sample users) or the local
cluster, and NEXK_PORTAL_DATABASE_URL (or the local cluster's nexk_portal login) for the portal:

1. starts uvicorn in its own process group (`--workers N`, uvloop + httptools when installed) with a
   throw-away signing secret, and mints an access token for each of `--users` sampled client admins;
2. checks every token with one sequential client on the API, and 50 of them on the page (all must answer
   200: a redirect to the sign-in page would otherwise count as a fast success; the API and the page run the
   same session checks), then a second round whose `Server-Timing` is the server time without queueing;
3. times the bare list query the same way a request runs it (app.database's RLS transaction, as the same
   users), around `execute`, plus `explain analyze` execution time for 50 of them;
4. runs wrk for each endpoint at each client count (`-t2 -c<clients> --latency`, a Lua script that cycles the
   tokens as a cookie or a bearer header), and records p50/p90/p95/p99, requests per second, non-2xx
   answers, and the CPU used meanwhile by the server processes and by the whole machine (/proc);
5. prints the Markdown for bench/results/portal.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from app.auth.tokens import mint_access_token
from app.database import Database
from app.queries import tickets as q
from bench.portal_load import free_port, live_session, owner_and_portal_urls, sample_users
from nexk.portal_env import PORTAL_DATABASE_URL
from nexk.portal_login import PORTAL_LOGIN

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

LUA = """
local tokens = {TOKENS}
local path, mode = "{PATH}", "{MODE}"
local prepared, counter = {}, 0
local next_id = 0

function setup(thread)
  thread:set("offset", next_id * 7919)
  next_id = next_id + 1
end

function init(args)
  for i, token in ipairs(tokens) do
    local headers = {}
    if mode == "cookie" then
      headers["Cookie"] = "nexk_access=" .. token
    else
      headers["Authorization"] = "Bearer " .. token
    end
    prepared[i] = wrk.format("GET", path, headers)
  end
  counter = tonumber(offset) or 0
end

function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, '
    .. '"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class Run:
    endpoint: str
    clients: int
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50: float
    p90: float
    p95: float
    p99: float
    mean: float
    server_cpu_s: float
    machine_busy_s: float
    db_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        return self.server_cpu_s * 1000 / self.requests

    @property
    def db_cpu_ms(self) -> float:
        return self.db_cpu_s * 1000 / self.requests

    @property
    def machine_cpu_ms(self) -> float:
        return self.machine_busy_s * 1000 / self.requests


def machine_busy_seconds() -> float:
    """CPU seconds spent by all cores outside idle/iowait since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def process_tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and its children (uvicorn's supervisor and workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def database_backends_cpu_seconds(dbname: str) -> float:
    """utime + stime of the PostgreSQL backends serving the portal's login on `dbname` (the portal's pool)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith(f"postgres: {PORTAL_LOGIN} {dbname} "):
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def server_timing(response: httpx.Response) -> dict[str, float]:
    found = {}
    for part in response.headers.get("server-timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if duration:
            found[name] = float(duration)
    return found


def check_and_time(base: str, specs: list[dict], rounds: int) -> tuple[list[float], list[float]]:
    """One sequential client over every token: all must be 200; returns server (app) and db times."""
    app_ms, db_ms = [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        for round_ in range(rounds):
            for spec in specs:
                response = client.get(spec["path"], headers=spec["headers"])
                if response.status_code != 200:
                    raise SystemExit(f"{spec['path']} answered {response.status_code}, expected 200")
                timing = server_timing(response)
                if round_ > 0:  # the first round warms each user's caches
                    app_ms.append(timing["app"])
                    db_ms.append(timing.get("db", 0.0))
    return app_ms, db_ms


def bare_sql(portal_url: str, owner_url: str, users: list[tuple[str, str]]) -> tuple[list[float], float]:
    """The list query alone, as a request runs it (RLS transaction as the same users), timed around execute;
    and the median `explain analyze` execution time for 50 of them (server side only, no round trip)."""
    database = Database(portal_url, min_size=1, max_size=1)
    database.open()
    timings: list[float] = []
    explain_ms: list[float] = []
    try:
        for i in range(len(users) * 2):
            user_id, email = users[i % len(users)]
            claims = {"sub": user_id, "role": "authenticated", "aal": "aal1", "email": email}
            with database.rls_transaction(claims, read_only=True) as conn:
                started = time.perf_counter()
                q.list_tickets(conn, q.TicketFilter(), "client_admin")
                if i >= len(users):
                    timings.append((time.perf_counter() - started) * 1000)
        for user_id, email in users[:50]:
            claims = {"sub": user_id, "role": "authenticated", "aal": "aal1", "email": email}
            with database.rls_transaction(claims, read_only=True) as conn:
                query, params = q.list_statement(q.TicketFilter(), "client_admin")
                plan = conn.execute(
                    sql.SQL("explain (analyze, format json) {}").format(query), params
                ).fetchone()
                explain_ms.append(plan["QUERY PLAN"][0]["Execution Time"])
    finally:
        database.close()
    return timings, statistics.median(explain_ms)


def run_wrk(
    base: str, script: Path, clients: int, seconds: float, server_pid: int, endpoint: str, dbname: str = ""
) -> Run:
    cpu0, busy0 = process_tree_cpu_seconds(server_pid), machine_busy_seconds()
    db0 = database_backends_cpu_seconds(dbname)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    cpu1, busy1 = process_tree_cpu_seconds(server_pid), machine_busy_seconds()
    db1 = database_backends_cpu_seconds(dbname)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Run(
        endpoint=endpoint,
        clients=clients,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        non2xx=data["non2xx"],
        socket_errors=data["socket_errors"],
        p50=data["p50"] / 1000,
        p90=data["p90"] / 1000,
        p95=data["p95"] / 1000,
        p99=data["p99"] / 1000,
        mean=data["mean"] / 1000,
        server_cpu_s=cpu1 - cpu0,
        machine_busy_s=busy1 - busy0,
        db_cpu_s=db1 - db0,
    )


def lua_script(folder: Path, name: str, path: str, mode: str, tokens: list[str]) -> Path:
    script = folder / f"{name}.lua"
    listed = "{" + ", ".join(f'"{t}"' for t in tokens) + "}"
    script.write_text(LUA.replace("{TOKENS}", listed).replace("{PATH}", path).replace("{MODE}", mode))
    return script


def start_server(
    owner_url: str, portal_url: str, secret: str, port: int, args: argparse.Namespace
) -> subprocess.Popen:
    env = {
        **os.environ,
        "NEXK_ENV": "dev",
        "NEXK_DATABASE_URL": owner_url,
        PORTAL_DATABASE_URL: portal_url,
        "NEXK_SESSION_SECRET": secret,
        "NEXK_INSECURE_COOKIES": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers), "--loop", args.loop, "--http", args.http,
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(300):  # start-up opens the pools
        try:
            if httpx.get(f"http://127.0.0.1:{port}/auth/sign-in", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("uvicorn did not answer within 30 s")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="uvicorn --loop: auto picks uvloop when installed")
    parser.add_argument("--http", default="auto", help="uvicorn --http: auto picks httptools when installed")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian).")

    load_start = os.getloadavg()
    owner_url, portal_url = owner_and_portal_urls()
    users = sample_users(owner_url, args.users, args.seed)
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tokens = [
        mint_access_token(secret, user_id=uid, email=email, session_id=live_session(owner_url, uid), aal="aal1", amr=[],
                          lifetime=3600)[0]
        for uid, email in users
    ]  # fmt: skip
    endpoints = {
        "api": ("GET /api/tickets (API, bearer)", "/api/tickets", "bearer"),
        "page": ("GET /tickets (list page, cookie)", "/tickets", "cookie"),
    }
    runs: list[Run] = []
    dbname = str(conninfo_to_dict(owner_url).get("dbname"))
    one_client: dict[str, tuple[list[float], list[float]]] = {}
    server = start_server(owner_url, portal_url, secret, port, args)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for key, (label, path, mode) in endpoints.items():
                header = "Cookie" if mode == "cookie" else "Authorization"
                value = "nexk_access={}" if mode == "cookie" else "Bearer {}"
                specs = [{"path": path, "headers": {header: value.format(t)}} for t in tokens]
                # Every token once (the API first: cheap), then a timed second round; the page is timed on 50.
                one_client[key] = check_and_time(base, specs if key == "api" else specs[:50], rounds=2)
                script = lua_script(Path(tmp), key, path, mode, tokens)
                run_wrk(base, script, max(args.clients), 3, server.pid, label)  # warm-up: pool, plans
                for clients in args.clients:
                    runs.append(run_wrk(base, script, clients, args.seconds, server.pid, label, dbname))
    finally:
        stop_server(server)
    sql_ms, explain_ms = bare_sql(portal_url, owner_url, users)

    with psycopg.connect(owner_url) as conn:
        version = conn.execute("select max(version) from supabase_migrations.schema_migrations").fetchone()[0]
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"\n## wrk, closed loop, {args.seconds:.0f} s per run, {args.workers} uvicorn worker(s) "
          f"(--loop {args.loop} --http {args.http}), "
          f"database `{dbname}` (migrations up to {version})\n")  # fmt: skip
    print(f"Machine: {os.cpu_count()} CPUs, {mem_gib:.0f} GiB; load average at start "
          f"{load_start[0]:.2f} / {load_start[1]:.2f} / {load_start[2]:.2f}.\n")  # fmt: skip
    print("| endpoint | clients | requests | non-2xx | req/s | p50 ms | p90 ms | p95 ms | p99 ms | "
          "portal CPU ms/req | PostgreSQL CPU ms/req | machine CPU ms/req |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r.endpoint} | {r.clients} | {r.requests:,} | {r.non2xx + r.socket_errors} | {r.rps:.0f} | "
              f"{r.p50:.1f} | {r.p90:.1f} | {r.p95:.1f} | {r.p99:.1f} | {r.server_cpu_ms:.2f} | "
              f"{r.db_cpu_ms:.2f} | {r.machine_cpu_ms:.2f} |")  # fmt: skip
    print()
    sql_p50 = statistics.median(sql_ms)
    for key, (label, _, _) in endpoints.items():
        app_ms, db_ms = one_client[key]
        print(f"- {label}, one sequential client ({len(app_ms)} requests): server time p50 "
              f"{statistics.median(app_ms):.2f} ms (in the RLS transaction {statistics.median(db_ms):.2f} ms); "
              f"server / bare query = {statistics.median(app_ms) / sql_p50:.2f}x")  # fmt: skip
    print(f"- Bare list query in the same RLS transaction ({len(sql_ms)} runs, timed around execute): "
          f"p50 {sql_p50:.2f} ms, p95 {sorted(sql_ms)[int(0.95 * (len(sql_ms) - 1))]:.2f} ms; "
          f"`explain analyze` execution time p50 {explain_ms:.2f} ms.")  # fmt: skip
    load_end = os.getloadavg()
    print(f"- Load average at the end: {load_end[0]:.2f} / {load_end[1]:.2f} / {load_end[2]:.2f}.")


if __name__ == "__main__":
    main()
