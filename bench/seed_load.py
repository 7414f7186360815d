"""Benchmark: load 1,000 organizations, 1,000,000 tickets and 3,000,000 messages with `load_world`.

    .venv/bin/python -m bench.seed_load [--keep NAME] [--orgs N --users-per-org M --tickets T --seed S]

Creates a throw-away database on the local server (CREATE DATABASE + db.migrate.migrate), seeds it, writes
bench/results/seed.md and drops the database. `--keep NAME` leaves it in place, under that name, for the RLS
and portal benchmarks, which reuse the big world instead of loading it again (drop it yourself afterwards:
`psql "$(nexk db url)" -c 'drop database NAME'`; it takes about 2 GB).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from db.connection import database_url
from db.migrate import migrate
from db.seed.load import load_world
from db.seed.world import WorldSpec

RESULTS = Path(__file__).resolve().parent / "results" / "seed.md"
TARGET_SECONDS = 120


def _memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _size(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("select pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--users-per-org", type=int, default=10)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages-per-ticket", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="NAME", help="keep the seeded database under this name")
    args = parser.parse_args()

    server = database_url(start=True)
    name = args.keep or f"nexk_bench_seed_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        if args.keep:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_conninfo(server, dbname=name)
    load_before = os.getloadavg()
    try:
        started = time.perf_counter()
        migrate(url)
        migrate_seconds = time.perf_counter() - started
        spec = WorldSpec(
            orgs=args.orgs,
            users_per_org=args.users_per_org,
            tickets=args.tickets,
            seed=args.seed,
            messages_per_ticket=args.messages_per_ticket,
        )
        report = load_world(url, spec, progress=lambda line: print(f"  {line}", flush=True))
        size = _size(url)
    finally:
        if not args.keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    verdict = "under" if report.total < TARGET_SECONDS else "OVER"
    lines = [
        "# Seed load benchmark",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `.venv/bin/python -m bench.seed_load"
        f"{' --keep ' + args.keep if args.keep else ''}`.",
        "",
        f"- machine: {os.cpu_count()} CPUs (nproc), {_memory()} RAM, Python {platform.python_version()},"
        f" PostgreSQL {psycopg.connect(server).info.server_version // 10000} (local cluster: fsync off)",
        f"- world: {spec.orgs} organizations x {spec.users_per_org} users, {spec.tickets:,} tickets,"
        f" {spec.messages_per_ticket} messages per ticket, seed {spec.seed}",
        f"- tickets/messages copied WITH (FREEZE) into tables truncated in the same transaction: {report.frozen}",
        f"- machine load average (1 min) before / after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}"
        " (other work on the 2 cores inflates every phase; compare with the load average)",
        f"- database size after load: {size}; migrations before the load: {migrate_seconds:.1f} s (not counted)",
        "",
        "| phase | seconds |",
        "|---|---:|",
        *(f"| {phase} | {seconds:.1f} |" for phase, seconds in report.phases.items()),
        f"| **total** | **{report.total:.1f}** |",
        "",
        "| table | rows |",
        "|---|---:|",
        *(f"| {table} | {count:,} |" for table, count in report.counts.items()),
        "",
        f"Result: {report.total:.1f} s, {verdict} the {TARGET_SECONDS} s target.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
