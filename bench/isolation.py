"""Benchmark 6(ii): the isolation suite's speed (`.venv/bin/python -m bench.isolation [worlds] [seed]`).

Builds a fresh migrated database on the project's server, runs `db.rls.probe.run_isolation` over N seeded
worlds (every identity's reads, the writes of every identity), and writes probes per second and the total
time to bench/results/isolation.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from db import migrate as runner
from db.cluster import LocalCluster
from db.connection import external_url
from db.rls.probe import run_isolation

RESULTS = Path(__file__).parent / "results" / "isolation.md"


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        return kib / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        return 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.isolation", description=__doc__.splitlines()[0])
    parser.add_argument("worlds", type=int, nargs="?", default=40, help="seeded worlds (default 40)")
    parser.add_argument("seed", type=int, nargs="?", default=2026, help="the worlds' seed (default 2026)")
    args = parser.parse_args(argv)
    worlds, seed = args.worlds, args.seed
    url = external_url()
    auth_password = None
    if not url:
        config = LocalCluster().start()
        url, auth_password = config.url, config.authenticator_password
    name = f"nexk_bench_isolation_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    dsn = make_conninfo(url, dbname=name)
    try:
        started = time.perf_counter()
        runner.migrate(dsn, authenticator_password=auth_password)
        migrate_s = time.perf_counter() - started
        runs = {}
        load_before = f"{os.getloadavg()[0]:.1f}"
        for label, writers in (
            ("every identity reads and writes", None),
            ("run_isolation default (writes of 6)", 6),
            ("pytest property setting (writes of 2)", 2),
        ):
            runs[label] = run_isolation(dsn, examples=worlds, seed=seed, writers=writers)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
    lines = [
        "# Isolation suite benchmark (6(ii))",
        "",
        f"Command: `.venv/bin/python -m bench.isolation {worlds} {seed}` (`run_isolation`, 2 connections).",
        f"Machine: {os.cpu_count()} CPUs (nproc), {_memory_gib():.1f} GiB memory, {platform.platform()}, "
        f"Python {platform.python_version()}; PostgreSQL: the project's local cluster. Migration: {migrate_s:.1f} s.",
        f"Load average during the run: {load_before} (start) / {os.getloadavg()[0]:.1f} (end).",
        "",
        "| run | worlds | identities | probes | violations | total time | probes/s | per world | server CPU | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in runs.items():
        lines.append(
            f"| {label} | {r.worlds} | {r.identities} | {r.probes} | {len(r.violations)} | {r.elapsed:.1f} s "
            f"| {r.probes_per_second:.0f} | {r.elapsed / r.worlds * 1000:.0f} ms "
            f"| {f'{r.server_cpu:.1f} s' if r.server_cpu is not None else 'n/a'} | {r.client_cpu:.1f} s |"
        )
    lines += [
        "",
        "A probe is one SELECT of one relation as one identity, or one write attempt (with its savepoint and",
        "the owner's re-read of the table). Wall-clock figures depend on machine load (`load` above: other jobs",
        "share the cores); the CPU columns do not. Server CPU is the two backends' user+system time: on an idle",
        "2-core machine a run takes about max(server CPU / 2, client CPU) plus round trips.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 1 if any(r.violations for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
