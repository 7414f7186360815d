"""Run every benchmark under bench/, in the order their inputs need (`make bench`, `python -m bench`).

    python -m bench                       # all of them, at the size of the figures in README.md
    python -m bench --only isolation      # one (or several: --only seed_load rls_overhead)
    python -m bench --list                # the plan: each benchmark and the arguments it gets

The full run seeds the 1,000-organization world once (`seed_load --keep nexk_bench_world`, about 2 minutes),
measures the RLS overhead and the portal under load on it, runs the isolation-suite benchmark on its own fresh
database, then drops the world (about 2 GB). Estimated from the reports in bench/results/ on the 2-core
machine: 10 to 15 minutes in all, most of it the naive policy forms of rls_overhead (one of them times out at
60 s by design) and the wrk runs. The reports are rewritten in bench/results/ (the portal benchmarks print
theirs: paste it into bench/results/portal.md). A benchmark run alone with --only that needs the big world
(rls_overhead, portal_wrk, portal_load) reuses `nexk_bench_world` when it exists and seeds it otherwise.
Each benchmark still runs by itself with its own options: `python -m bench.<name> --help`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

WORLD = "nexk_bench_world"


@dataclass(frozen=True)
class Benchmark:
    name: str
    args: tuple[str, ...]
    needs_world: bool  # runs on the kept 1M-ticket world rather than building its own database


# The arguments are those the published figures were measured with (README's "Measured figures").
PLAN: tuple[Benchmark, ...] = (
    Benchmark("seed_load", ("--keep", WORLD), needs_world=False),
    Benchmark("rls_overhead", ("--database", WORLD, "--runs", "100", "--naive-runs", "1"), needs_world=True),
    Benchmark("portal_wrk", ("--seconds", "15", "--workers", "1"), needs_world=True),
    Benchmark("portal_load", ("--seconds", "20"), needs_world=True),
    Benchmark("isolation", ("20", "2026"), needs_world=False),
)


def modules() -> list[str]:
    """Every benchmark module in bench/ (what the plan must cover)."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_"))


def _world_exists(server: str) -> bool:
    with psycopg.connect(server, autocommit=True) as conn:
        return conn.execute("select 1 from pg_database where datname = %s", (WORLD,)).fetchone() is not None


def _drop_world(server: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(WORLD)))


def _run(bench: Benchmark, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", f"bench.{bench.name}", *bench.args]
    print(f"\n=== {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (see --list)")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--keep-world", action="store_true", help=f"do not drop {WORLD} at the end")
    args = parser.parse_args(argv)

    names = [b.name for b in PLAN]
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(names)}")
    if args.list:
        for b in PLAN:
            print(f"{b.name}: python -m bench.{b.name} {' '.join(b.args)}")
        return 0
    selected = [b for b in PLAN if not args.only or b.name in args.only]

    from db.cluster import LocalCluster
    from db.connection import database_url, external_url

    # Like a test run, a benchmark run stops the local cluster at the end when it was not running before.
    cluster = None if external_url() else LocalCluster()
    stop_cluster = cluster is not None and not cluster.is_running()
    server = database_url(start=True)
    env = dict(os.environ)
    seeded_here = False
    if any(b.needs_world for b in selected):
        # The portal benchmarks find their database in NEXK_DATABASE_URL (bench/portal_load.py).
        env["NEXK_DATABASE_URL"] = make_conninfo(server, dbname=WORLD)
        if "seed_load" not in (b.name for b in selected) and not _world_exists(server):
            selected.insert(0, PLAN[0])
    failed: list[str] = []
    try:
        for bench in selected:
            seeded_here = seeded_here or bench.name == "seed_load"
            if _run(bench, env) != 0:
                failed.append(bench.name)
                if bench.name == "seed_load":
                    break  # the world-based ones would measure nothing
    finally:
        if seeded_here and not args.keep_world:
            _drop_world(server)
        if cluster is not None and stop_cluster:
            cluster.stop()
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
