"""Benchmark 6(i): what row level security costs on the four hot queries of the portal, at full size.

World: 1,000 organizations, 1,000,000 tickets, 3,000,000 messages (the seed engineer's kept database when
given with --database, else a database seeded here with db.seed.load.load_world and dropped afterwards
unless --keep). Each query runs, interleaved, as the `authenticated` identity (PostgREST's way: one
transaction, `set local role`, JWT claims; the policies filter) and as a BYPASSRLS role (`service_role`)
with the tenant filter written by hand. Median and p95 of >= 200 runs each, the ratio of medians, and one
EXPLAIN (ANALYZE, BUFFERS) plan per variant in bench/results/plans/. The naive policy forms
are measured on a throw-away variant of the tickets/messages SELECT policies inside a rolled-back
transaction (the real policies are never changed), with fewer runs because they are slow by design.

    .venv/bin/python -m bench.rls_overhead [--database NAME] [--runs 200] [--naive-runs 20] [--keep]
"""

# ruff: noqa: S608  (the SQL interpolates only UUIDs read from the seeded database and fixed literals)
from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

RESULTS = Path(__file__).resolve().parent / "results"
PLANS = RESULTS / "plans"
OPEN = "('new', 'open', 'pending')"


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    who: str  # which identity (key of identities())
    rls_sql: str  # as authenticated: the app's query, RLS adds the tenant filter
    manual_sql: str  # as service_role: the same with the tenant filter by hand


def queries(ids: dict[str, str]) -> list[Query]:
    return [
        Query(
            "member_open_tickets",
            "member: my open tickets, newest 50",
            "member",
            "select t.id, t.subject, t.status, t.priority, t.created_at from public.tickets as t"
            f" where t.requester_id = '{ids['member']}' and t.status in {OPEN}"
            " order by t.created_at desc limit 50",
            "select t.id, t.subject, t.status, t.priority, t.created_at from public.tickets as t"
            f" where t.organization_id = '{ids['member_org']}' and t.requester_id = '{ids['member']}'"
            f" and t.status in {OPEN} order by t.created_at desc limit 50",
        ),
        Query(
            "client_admin_org_list",
            "client admin: the organization's tickets, newest 50",
            "client_admin",
            "select t.id, t.subject, t.status, t.requester_id, t.created_at from public.tickets as t"
            " order by t.created_at desc limit 50",
            "select t.id, t.subject, t.status, t.requester_id, t.created_at from public.tickets as t"
            f" where t.organization_id = '{ids['admin_org']}' order by t.created_at desc limit 50",
        ),
        Query(
            "agent_queue",
            "agent: open tickets of my organizations, oldest first, 50",
            "agent",
            "select t.id, t.organization_id, t.subject, t.priority, t.created_at from public.tickets as t"
            f" where t.status in {OPEN} order by t.created_at limit 50",
            "select t.id, t.organization_id, t.subject, t.priority, t.created_at from public.tickets as t"
            " where t.organization_id in (select a.organization_id from public.agent_assignments as a"
            f" where a.agent_id = '{ids['agent']}') and t.status in {OPEN} order by t.created_at limit 50",
        ),
        Query(
            "ticket_thread",
            "member: one ticket's thread (public messages)",
            "member",
            "select m.id, m.author_id, m.body, m.created_at from public.ticket_messages as m"
            f" where m.ticket_id = '{ids['thread_ticket']}' order by m.created_at",
            "select m.id, m.author_id, m.body, m.created_at from public.ticket_messages as m"
            " join public.tickets as t on t.id = m.ticket_id"
            f" where m.ticket_id = '{ids['thread_ticket']}' and t.organization_id = '{ids['member_org']}'"
            f" and t.requester_id = '{ids['member']}' and not m.internal order by m.created_at",
        ),
    ]


# Naive policy forms, installed in place of the real SELECT policy inside a rolled-back
# transaction. Each keeps the rule's meaning; only the form differs.
NAIVE = {
    "public.tickets": {
        "bare auth.uid() and un-wrapped helpers (test2a-2c)": """
            (organization_id = private.current_org_id()
             and (requester_id = auth.uid() or private.sees_all_org_tickets()))
            or organization_id in (select private.agent_org_ids())
            or private.is_admin()""",
        "join to the outer row (test5: exists ... where a.organization_id = tickets.organization_id)": """
            exists (select 1 from public.profiles as p
                    where p.id = (select auth.uid()) and p.organization_id = tickets.organization_id
                      and (tickets.requester_id = p.id or p.role = 'client_admin'))
            or exists (select 1 from public.agent_assignments as a
                       where a.organization_id = tickets.organization_id and a.agent_id = (select auth.uid()))
            or (select private.is_admin())""",
    },
    "public.ticket_messages": {
        "bare auth.uid()/helpers in the visibility test (test2a-2c)": """
            ticket_messages.ticket_id in (select t.id from public.tickets as t)
            and (not ticket_messages.internal or private.is_staff())""",
        "join to the outer row (test5)": """
            exists (select 1 from public.tickets as t where t.id = ticket_messages.ticket_id)
            and (not ticket_messages.internal or (select private.is_staff()))""",
    },
}
QUERY_TABLE = {
    "member_open_tickets": "public.tickets",
    "client_admin_org_list": "public.tickets",
    "agent_queue": "public.tickets",
    "ticket_thread": "public.ticket_messages",
}


def identities(conn: psycopg.Connection) -> dict[str, str]:
    """Real seeded identities: a member of a non-sharing organization with many open tickets, a client admin,
    the agent serving the most organizations, a ticket thread of that member."""
    member, member_org = conn.execute(
        "select t.requester_id, t.organization_id from public.tickets as t"
        " join public.organizations as o on o.id = t.organization_id and not o.shared_tickets"
        " join public.profiles as p on p.id = t.requester_id and p.role = 'client_member'"
        " and p.deactivated_at is null and p.erased_at is null"
        f" where t.status in {OPEN} group by 1, 2 order by count(*) desc limit 1"
    ).fetchone()
    client_admin, admin_org = conn.execute(
        "select p.id, p.organization_id from public.profiles as p where p.role = 'client_admin'"
        " and p.deactivated_at is null and p.erased_at is null order by p.id limit 1"
    ).fetchone()
    agent = conn.execute(
        "select a.agent_id from public.agent_assignments as a join public.profiles as p on p.id = a.agent_id"
        " where p.role = 'agent' and p.deactivated_at is null and p.erased_at is null"
        " group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]
    thread = conn.execute(
        "select m.ticket_id from public.ticket_messages as m join public.tickets as t on t.id = m.ticket_id"
        " where t.requester_id = %s group by 1 order by count(*) desc limit 1",
        (member,),
    ).fetchone()[0]
    return {
        "member": str(member),
        "member_org": str(member_org),
        "client_admin": str(client_admin),
        "admin_org": str(admin_org),
        "agent": str(agent),
        "thread_ticket": str(thread),
    }


def _claims(user: str, aal: str) -> str:
    return json.dumps(
        {
            "sub": user,
            "role": "authenticated",
            "aal": aal,
            "session_id": str(uuid.uuid4()),
            "is_anonymous": False,
        }
    )


def _as_role(conn: psycopg.Connection, role: str, claims: str | None) -> None:
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    conn.execute("select set_config('request.jwt.claims', %s, true)", (claims or json.dumps({"role": role}),))


def timed(conn: psycopg.Connection, role: str, claims: str | None, query: str) -> tuple[float, int]:
    """Milliseconds of the query alone (role and claims set first, as PostgREST does), and its row count."""
    with conn.transaction(force_rollback=True):
        _as_role(conn, role, claims)
        started = time.perf_counter()
        rows = conn.execute(query).fetchall()
        return (time.perf_counter() - started) * 1000, len(rows)


def explain(conn: psycopg.Connection, role: str, claims: str | None, query: str) -> str:
    with conn.transaction(force_rollback=True):
        _as_role(conn, role, claims)
        rows = conn.execute(f"explain (analyze, buffers, verbose off, costs on) {query}").fetchall()
    return "\n".join(r[0] for r in rows)


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "runs": len(ordered)}


@contextmanager
def naive_policy(conn: psycopg.Connection, table: str, using: str) -> Iterator[None]:
    """The table's SELECT policy replaced by `using` for the block, then rolled back (never committed)."""
    name = table.split(".")[1]
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(f"{name}_select"), sql.SQL(table)))
        conn.execute(
            sql.SQL("create policy {} on {} for select to authenticated using ({})").format(
                sql.Identifier(f"{name}_select"), sql.SQL(table), sql.SQL(using)
            )
        )
        yield


def measure(conn: psycopg.Connection, ids: dict[str, str], runs: int, naive_runs: int) -> dict:
    claims = {
        "member": _claims(ids["member"], "aal1"),
        "client_admin": _claims(ids["client_admin"], "aal1"),
        "agent": _claims(ids["agent"], "aal2"),
    }
    PLANS.mkdir(parents=True, exist_ok=True)
    out: dict = {"identities": ids, "queries": []}
    for q in queries(ids):
        who = claims[q.who]
        rls_ms, manual_ms = [], []
        for _ in range(5):  # warm the cache and the plan for both variants
            timed(conn, "authenticated", who, q.rls_sql)
            timed(conn, "service_role", None, q.manual_sql)
        rows = (
            timed(conn, "authenticated", who, q.rls_sql)[1],
            timed(conn, "service_role", None, q.manual_sql)[1],
        )
        for _ in range(runs):  # interleaved, so drift (autovacuum, cache) hits both alike
            rls_ms.append(timed(conn, "authenticated", who, q.rls_sql)[0])
            manual_ms.append(timed(conn, "service_role", None, q.manual_sql)[0])
        (PLANS / f"{q.name}.rls.txt").write_text(
            f"-- as authenticated ({q.who})\n-- {q.rls_sql}\n"
            + explain(conn, "authenticated", who, q.rls_sql)
            + "\n"
        )
        (PLANS / f"{q.name}.manual.txt").write_text(
            f"-- as service_role (BYPASSRLS), tenant filter by hand\n-- {q.manual_sql}\n"
            + explain(conn, "service_role", None, q.manual_sql)
            + "\n"
        )
        entry = {
            "name": q.name,
            "title": q.title,
            "rows": {"rls": rows[0], "manual": rows[1]},
            "rls": stats(rls_ms),
            "manual": stats(manual_ms),
            "naive": [],
        }
        entry["ratio"] = entry["rls"]["median"] / entry["manual"]["median"]
        table = QUERY_TABLE[q.name]
        for n, (form, using) in enumerate(NAIVE[table].items(), start=1):
            with naive_policy(conn, table, using):
                timed_out = False
                samples = []
                conn.execute("set local statement_timeout = '60s'")
                for _ in range(naive_runs):
                    try:
                        with conn.transaction():
                            conn.execute(sql.SQL("set local role authenticated"))
                            conn.execute("select set_config('request.jwt.claims', %s, true)", (who,))
                            started = time.perf_counter()
                            conn.execute(q.rls_sql).fetchall()
                            samples.append((time.perf_counter() - started) * 1000)
                            conn.execute("reset role")
                    except psycopg.errors.QueryCanceled:
                        timed_out = True
                        break
                plan = ""
                if not timed_out:
                    with conn.transaction():
                        conn.execute("set local role authenticated")
                        conn.execute("select set_config('request.jwt.claims', %s, true)", (who,))
                        plan = "\n".join(
                            r[0] for r in conn.execute(f"explain (analyze, buffers) {q.rls_sql}").fetchall()
                        )
                        conn.execute("reset role")
            (PLANS / f"{q.name}.naive{n}.txt").write_text(
                f"-- naive form: {form}\n-- using ({using.strip()})\n{plan}\n"
            )
            item = {"form": form, "timed_out_60s": timed_out}
            if samples:
                item.update(stats(samples))
                item["ratio"] = item["median"] / entry["manual"]["median"]
            entry["naive"].append(item)
        out["queries"].append(entry)
        print(f"{q.name}: rls {entry['rls']['median']:.2f} ms, manual {entry['manual']['median']:.2f} ms, "
              f"ratio {entry['ratio']:.2f}", flush=True)  # fmt: skip
    return out


def seed_database(server_url: str, name: str) -> str:
    from db import migrate as runner
    from db.seed.load import load_world
    from db.seed.world import WorldSpec

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_conninfo(server_url, dbname=name)
    runner.migrate(url)
    load_world(url, WorldSpec(orgs=1000, users_per_org=20, tickets=1_000_000, seed=7))
    return url


def write_markdown(result: dict, path: Path) -> None:
    """The tables are regenerated; a hand-written '## Analysis' section already in the file is kept."""
    kept = ""
    if path.exists() and "\n## Analysis" in path.read_text(encoding="utf-8"):
        kept = "\n## Analysis" + path.read_text(encoding="utf-8").split("\n## Analysis", 1)[1]
    lines = [
        "# RLS overhead at 1,000 organizations / 1,000,000 tickets / 3,000,000 messages",
        "",
        f"Generated by `.venv/bin/python -m bench.rls_overhead` on {result['when']} (PostgreSQL "
        f"{result['server']}, {result['runs']} interleaved runs per variant; naive forms {result['naive_runs']} "
        "runs). Times are client-side wall time of the query alone on loopback, in ms. Plans: "
        "`bench/results/plans/`. Goal: RLS median <= 1.2 x the hand-filtered BYPASSRLS median.",
        "",
        "| query | RLS median | RLS p95 | manual median | manual p95 | ratio | rows (RLS/manual) |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in result["queries"]:
        lines.append(
            f"| {q['title']} | {q['rls']['median']:.2f} | {q['rls']['p95']:.2f} | {q['manual']['median']:.2f} | "
            f"{q['manual']['p95']:.2f} | **{q['ratio']:.2f}x** | {q['rows']['rls']}/{q['rows']['manual']} |"
        )
    lines += ["", "## The naive policy forms, same queries", "",
              "| query | policy form | median | p95 | x manual |", "|---|---|---|---|---|"]  # fmt: skip
    for q in result["queries"]:
        for n in q["naive"]:
            if n.get("timed_out_60s"):
                lines.append(f"| {q['title']} | {n['form']} | > 60 s (timed out) | | |")
            else:
                lines.append(
                    f"| {q['title']} | {n['form']} | {n['median']:.2f} | {n['p95']:.2f} | {n['ratio']:.1f}x |"
                )
    path.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="an existing seeded database on the project's server")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--naive-runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database this run seeds")
    args = parser.parse_args()
    from db.connection import database_url

    server = database_url(start=True)
    seeded = None
    if args.database:
        url = make_conninfo(server, dbname=args.database)
    else:
        seeded = f"nexk_rls_overhead_{uuid.uuid4().hex[:6]}"
        url = seed_database(server, seeded)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ids = identities(conn)
            result = measure(conn, ids, args.runs, args.naive_runs)
            result["server"] = conn.execute("show server_version").fetchone()[0]
        result.update(when=time.strftime("%Y-%m-%d %H:%M"), runs=args.runs, naive_runs=args.naive_runs)
        (PLANS / "rls_overhead.raw.json").write_text(json.dumps(result, indent=2) + "\n")
        write_markdown(result, RESULTS / "rls_overhead.md")
    finally:
        if seeded and not args.keep:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(seeded))
                )


if __name__ == "__main__":
    main()
