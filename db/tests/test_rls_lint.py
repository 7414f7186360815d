"""`nexk rls lint`: every rule fires on a minimal bad case, stays quiet on its good counterpart, points at
the right place, and the repository's own db/ passes.

Catalog cases run on one database that holds only the Supabase compatibility layer: each case starts from
a clean, fully compliant table (NOTES), applies its defect inside a transaction, lints, and rolls back. DDL
is transactional in PostgreSQL, so cases cannot leak into each other and the module stays fast.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from db.compat import ensure_compat
from db.migrate import DB_DIR as REPO_DB
from db.rls import catalog_lint, static_lint
from db.rls.cli import app
from db.rls.findings import RULES, Allowance, Finding, Level, apply_allow_list, load_allow_list
from db.rls.lint import merge, run
from db.rls.static_lint import Source
from db.testing import Server, _worker_tag
from db.tests.squashed import baseline_part

# A table that satisfies every rule: RLS enabled and forced, anon without grants, a restrictive aal2 policy,
# one permissive policy per command with the auth call wrapped, and the policy column indexed.
NOTES = """
create schema private;
create table public.notes (id bigint primary key, owner_id uuid not null, body text);
create index notes_owner_id_idx on public.notes (owner_id);
alter table public.notes enable row level security;
alter table public.notes force row level security;
revoke all on public.notes from anon;
create policy notes_mfa on public.notes as restrictive for all to authenticated
    using ((select auth.jwt() ->> 'aal') = 'aal2');
create policy notes_select on public.notes for select to authenticated
    using (owner_id = (select auth.uid()));
create policy notes_insert on public.notes for insert to authenticated
    with check (owner_id = (select auth.uid()));
create policy notes_update on public.notes for update to authenticated
    using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy notes_delete on public.notes for delete to authenticated
    using (owner_id = (select auth.uid()));
"""

# What 0360 (now part of db/schema/0362_baseline.sql) does on top of the layer: the API roles lose TRIGGER,
# TRUNCATE, REFERENCES, MAINTAIN and TEMP. Supabase as delivered still grants TEMP to PUBLIC and MAINTAIN on
# Storage's tables (see below).
HARDENING = baseline_part("0360_api_roles_no_ddl_privileges")
ON_THIS_DATABASE = "do $$ begin execute format('{} on database %I {}', current_database()); end $$;"

FDW = "create foreign data wrapper lint_fdw; create server lint_srv foreign data wrapper lint_fdw;"
BUCKET = "insert into storage.buckets (id, name, public) values ('avatars', 'avatars', {public});"
SELECT_NOTES = "drop policy notes_select on public.notes; create policy notes_select on public.notes"

# rule -> (bad SQL, the findings it must give as (rule, object), good SQL that must give none)
CATALOG_CASES: dict[str, tuple[str, set[tuple[str, str]], str]] = {
    "0001": (
        "create table private.child (note_id bigint references public.notes (id));",
        {("0001", "private.child.child_note_id_fkey")},
        "create table private.child (note_id bigint references public.notes (id));"
        "create index on private.child (note_id);",
    ),
    "0002": (
        "create view public.user_emails with (security_invoker = true) as select id, email from auth.users;",
        {("0002", "public.user_emails")},
        "create view private.user_emails with (security_invoker = true) as select id, email from auth.users;",
    ),
    "0003": (
        f"{SELECT_NOTES} for select to authenticated using (owner_id = auth.uid());",
        {("0003", 'public.notes policy "notes_select"')},
        f"{SELECT_NOTES} for select to authenticated using (owner_id = (select auth.uid()));",
    ),
    "nexk_unwrapped_function_call": (
        "create function private.is_admin() returns boolean language sql stable set search_path = ''"
        " as 'select false';"
        f"{SELECT_NOTES} for select to authenticated using (owner_id = (select auth.uid()) or private.is_admin());",
        {("nexk_unwrapped_function_call", 'public.notes policy "notes_select"')},
        "create function private.is_admin() returns boolean language sql stable set search_path = ''"
        " as 'select false';"
        f"{SELECT_NOTES} for select to authenticated"
        " using (owner_id = (select auth.uid()) or (select private.is_admin()));",
    ),
    "0006": (
        "create policy notes_select_2 on public.notes for select to authenticated using (owner_id is not null);",
        {("0006", "public.notes authenticated select")},
        "create policy notes_select_2 on public.notes as restrictive for select to authenticated"
        " using (owner_id is not null);",
    ),
    "0007": (
        "alter table public.notes disable row level security; revoke select on public.notes from authenticated;",
        {("0007", "public.notes")},
        "revoke select on public.notes from authenticated;",
    ),
    "0008": (
        "create table private.cache (id int); alter table private.cache enable row level security;",
        {("0008", "private.cache")},
        "create table private.cache (id int);",
    ),
    "0010": (
        "create view public.note_bodies as select id, body from public.notes;",
        {("0010", "public.note_bodies")},
        "create view public.note_bodies with (security_invoker = true) as select id, body from public.notes;",
    ),
    "0011": (
        "create function private.answer() returns int language sql as 'select 42';",
        {("0011", "private.answer")},
        "create function private.answer() returns int language sql set search_path = '' as 'select 42';",
    ),
    "0013": (
        "create table public.plain (id int);",
        {
            ("0013", "public.plain"),
            ("nexk_rls_not_forced", "public.plain"),
            ("nexk_missing_mfa_policy", "public.plain"),
        },
        "create table private.plain (id int);",
    ),
    "0014": (
        "create extension seg schema public;",
        {("0014", "extension seg")},
        "create extension seg schema extensions;",
    ),
    "0015": (
        f"{SELECT_NOTES} for select to authenticated"
        " using (owner_id = (select auth.uid()) and (select auth.jwt() -> 'user_metadata' ->> 'team') = 'a');",
        {("0015", 'public.notes policy "notes_select"')},
        f"{SELECT_NOTES} for select to authenticated"
        " using (owner_id = (select auth.uid()) and (select auth.jwt() -> 'app_metadata' ->> 'team') = 'a');",
    ),
    "0016": (
        "create materialized view public.note_counts as select count(*) from public.notes;",
        {("0016", "public.note_counts")},
        "create materialized view public.note_counts as select count(*) from public.notes;"
        "revoke all on public.note_counts from anon, authenticated;",
    ),
    "0017": (
        f"{FDW} create foreign table public.remote (id int) server lint_srv;",
        {("0017", "public.remote")},
        f"{FDW} create foreign table private.remote (id int) server lint_srv;",
    ),
    "0021": (
        "create table private.phones (phone text references auth.users (phone));"
        "create index on private.phones (phone);",
        {("0021", "private.phones.phones_phone_fkey")},
        "create table private.phones (user_id uuid references auth.users (id));"
        "create index on private.phones (user_id);",
    ),
    "0023": (
        "create table public.logins (id int, password text);",
        {
            ("0023", "public.logins"),
            ("0013", "public.logins"),
            ("nexk_rls_not_forced", "public.logins"),
            ("nexk_missing_mfa_policy", "public.logins"),
        },
        "create table public.logins (id int, password text); revoke all on public.logins from anon, authenticated;"
        "alter table public.logins enable row level security; alter table public.logins force row level security;"
        "create policy logins_mfa on public.logins as restrictive for all to authenticated using (false);",
    ),
    "0024": (
        "drop policy notes_update on public.notes;"
        "create policy notes_update on public.notes for update to authenticated using (true and true)"
        " with check (1 = 1);",
        {("0024", 'public.notes policy "notes_update"')},
        "drop policy notes_update on public.notes;"
        "create policy notes_update on public.notes for update to authenticated"
        " using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()) and true);",
    ),
    "0025": (
        BUCKET.format(public="true") + "create policy avatars_read on storage.objects for select to public"
        " using (bucket_id = 'avatars');",
        {("0025", "bucket avatars")},
        BUCKET.format(public="true")
        + "create policy avatars_read on storage.objects for select to authenticated"
        " using (bucket_id = 'avatars' and owner = (select auth.uid()));",
    ),
    "0028/0029": (
        "create function public.whoami() returns uuid language sql security definer set search_path = ''"
        " as 'select auth.uid()';",
        {("0028", "public.whoami"), ("0029", "public.whoami")},
        "create function public.whoami() returns uuid language sql security definer set search_path = ''"
        " as 'select auth.uid()'; revoke execute on function public.whoami() from public, anon, authenticated;",
    ),
    "nexk_rls_not_forced": (
        "alter table public.notes no force row level security;",
        {("nexk_rls_not_forced", "public.notes")},
        "alter table public.notes force row level security;",
    ),
    "nexk_grant_without_policy": (
        "drop policy notes_delete on public.notes;",
        {("nexk_grant_without_policy", "public.notes authenticated delete")},
        "drop policy notes_delete on public.notes; revoke delete on public.notes from authenticated;",
    ),
    "nexk_anon_grant_without_policy": (
        "grant select on public.notes to anon;",
        {("nexk_anon_grant_without_policy", "public.notes anon")},
        "grant select on public.notes to anon;"
        "create policy notes_select_anon on public.notes for select to anon using (false);",
    ),
    "nexk_missing_mfa_policy": (
        "drop policy notes_mfa on public.notes;",
        {("nexk_missing_mfa_policy", "public.notes")},
        "drop policy notes_mfa on public.notes; create policy notes_mfa on public.notes as restrictive"
        " for all to authenticated using ((select auth.jwt() ->> 'aal') = 'aal2');",
    ),
    "nexk_api_role_table_privilege": (
        "grant trigger, truncate on public.notes to authenticated; grant references on storage.objects to public;",
        {
            ("nexk_api_role_table_privilege", "public.notes authenticated trigger"),
            ("nexk_api_role_table_privilege", "public.notes authenticated truncate"),
            ("nexk_api_role_table_privilege", "storage.objects anon references"),
            ("nexk_api_role_table_privilege", "storage.objects authenticated references"),
        },
        "grant trigger, truncate, references on public.notes, storage.objects to service_role;",
    ),
    "nexk_api_role_temp": (
        ON_THIS_DATABASE.format("grant temporary", "to public"),
        {("nexk_api_role_temp", "database anon temp"), ("nexk_api_role_temp", "database authenticated temp")},
        ON_THIS_DATABASE.format("grant temporary", "to service_role"),
    ),
    "nexk_policy_column_unindexed": (
        "drop index public.notes_owner_id_idx;",
        {("nexk_policy_column_unindexed", "public.notes.owner_id")},
        "drop index public.notes_owner_id_idx; create index on public.notes (owner_id, id);",
    ),
}


@pytest.fixture(scope="module")
def compat_url(pg_server: Server) -> Iterator[str]:
    """A database with only the Supabase compatibility layer: a baseline no rule should fire on."""
    janitor = pg_server.janitor(f"nexk_lintcase_{_worker_tag()}")
    janitor.init()
    url = pg_server.url_for(janitor.dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_compat(conn)
    yield url
    janitor.drop()


@pytest.fixture
def lint_case(compat_url: str) -> Iterator[Callable[[str], list[Finding]]]:
    """Lint the compliant NOTES world plus `sql`, inside a transaction that is rolled back."""
    with psycopg.connect(compat_url) as conn:

        def lint(sql: str) -> list[Finding]:
            with conn.transaction(force_rollback=True):
                conn.execute(HARDENING)
                conn.execute(NOTES)
                conn.execute(sql)
                return catalog_lint.lint(conn)

        yield lint


def _pairs(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.object) for f in found}


def test_compat_layer_and_the_compliant_table_give_no_catalog_finding(lint_case) -> None:
    assert lint_case("select 1") == []


def test_supabase_as_delivered_lets_the_api_roles_create_temporary_objects_and_maintain_storage_tables(
    compat_url: str,
) -> None:
    """The layer mirrors hosted Supabase: TEMP for PUBLIC, and on PostgreSQL 17 the MAINTAIN that Storage's
    ALL grant carries (its migration 0073 takes back only TRUNCATE, REFERENCES and TRIGGER). The lint names
    each, and 0360 (HARDENING) is what clears them."""
    with psycopg.connect(compat_url) as conn, conn.transaction(force_rollback=True):
        found = _pairs(catalog_lint.lint(conn))
        version = conn.execute("select current_setting('server_version_num')::int").fetchone()[0]
    expected = {
        ("nexk_api_role_temp", "database anon temp"),
        ("nexk_api_role_temp", "database authenticated temp"),
    }
    if version >= 170000:
        expected |= {
            ("nexk_api_role_table_privilege", f"storage.{table} {role} maintain")
            for table in ("buckets", "objects")
            for role in ("anon", "authenticated")
        }
    assert found == expected


def test_the_table_privilege_rule_says_who_grants_and_which_owner_may_revoke(lint_case) -> None:
    found = {f.object: f for f in lint_case(CATALOG_CASES["nexk_api_role_table_privilege"][0])}
    via_public, direct = found["storage.objects anon references"], found["public.notes authenticated trigger"]
    assert "PUBLIC" in via_public.message and "PUBLIC" not in direct.message
    assert "revoke references on storage.objects from public, anon" in via_public.fix
    assert (
        "revoke trigger on public.notes from authenticated" in direct.fix and "owner (postgres)" in direct.fix
    )


@pytest.mark.parametrize("case", CATALOG_CASES, ids=str)
def test_each_catalog_rule_fires_on_its_bad_case_and_not_on_its_good_one(lint_case, case: str) -> None:
    bad, expected, good = CATALOG_CASES[case]
    assert _pairs(lint_case(bad)) == expected
    assert lint_case(good) == []


# The portal's login (db/schema/0375) given more than anon and authenticated. Roles are cluster-wide, so each
# grant is made inside the lint transaction and rolled back: no other session ever sees it.
PORTAL_LOGIN_CASES = {
    "granted service_role": (
        "grant service_role to nexk_portal;",
        {"nexk_portal nexk_portal -> service_role"},
    ),
    "through an intermediate role": (
        "create role lint_middle nologin; grant service_role to lint_middle; grant lint_middle to nexk_portal;",
        {"nexk_portal nexk_portal -> lint_middle", "nexk_portal nexk_portal -> lint_middle -> service_role"},
    ),
    "granted the owner": ("grant postgres to nexk_portal;", {"nexk_portal nexk_portal -> postgres"}),
    "made BYPASSRLS itself": ("alter role nexk_portal bypassrls;", {"nexk_portal itself"}),
}


@pytest.mark.parametrize("case", PORTAL_LOGIN_CASES, ids=str)
def test_the_portal_login_rule_fires_when_nexk_portal_reaches_more_than_the_api_roles(
    lint_case, template_database: str, case: str
) -> None:
    """`template_database` is the migrated template: it guarantees nexk_portal exists on this cluster."""
    sql, expected = PORTAL_LOGIN_CASES[case]
    assert lint_case("select 1") == []  # nexk_portal as 0375 leaves it: anon and authenticated only
    found = [f for f in lint_case(sql) if f.rule == "nexk_portal_login_reach"]
    assert {f.object for f in found} == expected
    assert len(found) == len(lint_case(sql))  # nothing else fires
    assert all("revoke" in f.fix or "alter role" in f.fix for f in found)


def test_the_portal_login_rule_names_the_chain_and_what_to_revoke(lint_case, template_database: str) -> None:
    [direct] = lint_case("grant service_role to nexk_portal;")
    assert direct.message == (
        "nexk_portal reaches service_role, which has BYPASSRLS: nexk_portal -> service_role"
    )
    assert "revoke service_role from nexk_portal" in direct.fix
    middle = {f.object: f for f in lint_case(PORTAL_LOGIN_CASES["through an intermediate role"][0])}
    chain = middle["nexk_portal nexk_portal -> lint_middle -> service_role"]
    assert "revoke lint_middle from nexk_portal" in chain.fix


def test_boolean_policy_columns_need_no_index(lint_case) -> None:
    sql = "alter table public.notes add column archived boolean not null default false;" + (
        f"{SELECT_NOTES} for select to authenticated using (owner_id = (select auth.uid()) and not archived);"
    )
    assert lint_case(sql) == []


def test_every_catalog_finding_carries_a_fix_hint(lint_case) -> None:
    assert all(f.fix for f in lint_case(CATALOG_CASES["0023"][0]))
    [grant] = lint_case(CATALOG_CASES["nexk_grant_without_policy"][0])
    assert "revoke delete on public.notes from authenticated" in grant.fix and "or add a policy" in grant.fix


# -- static lint ------------------------------------------------------------------------------------------


def _static(sql: str, name: str = "db/policies/notes.sql") -> set[tuple[str, str]]:
    return {
        (f.rule, f.where) for f in static_lint.lint_sources([Source(name, textwrap.dedent(sql).lstrip())])
    }


STATIC_CASES: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "bare auth call": (
        """
        -- owners see their notes
        create policy notes_select on public.notes for select to authenticated
            using (owner_id = auth.uid());
        """,
        {("0003", "db/policies/notes.sql:3")},
    ),
    "current_setting call": (
        """
        create policy notes_select on public.notes for select to authenticated
            using (owner_id = current_setting('request.jwt.claim.sub', true)::uuid);
        """,
        {("0003", "db/policies/notes.sql:2")},
    ),
    "unwrapped helper call": (
        """
        create policy notes_select on public.notes for select to authenticated
            using (owner_id = (select auth.uid()) or private.is_admin());
        """,
        {("nexk_unwrapped_function_call", "db/policies/notes.sql:2")},
    ),
    "user_metadata": (
        """
        create policy notes_select on public.notes for select to authenticated
            using (
                (select auth.jwt()) -> 'user_metadata' ->> 'team' = 'a'
            );
        """,
        {("0015", "db/policies/notes.sql:3")},
    ),
    "true update policy": (
        """
        create policy notes_update on public.notes for update to authenticated
            using (true and true) with check (1 = 1);
        """,
        {("0024", "db/policies/notes.sql:1")},
    ),
    "insert policy without check": (
        "create policy notes_insert on public.notes for insert to authenticated;",
        {("0024", "db/policies/notes.sql:1")},
    ),
    "policy to public": (
        "select 1;\n\ncreate policy notes_select on public.notes for select using (owner_id = (select auth.uid()));",
        {("nexk_policy_to_public", "db/policies/notes.sql:3")},
    ),
    "update without check": (
        """
        create policy notes_update on public.notes for update to authenticated
            using (owner_id = (select auth.uid()));
        """,
        {("nexk_policy_without_check", "db/policies/notes.sql:1")},
    ),
    "unqualified subquery column": (
        """
        create policy notes_select on public.notes for select to authenticated
            using (
                owner_id in (
                    select m.user_id from private.members as m
                    where m.team_id = team_id
                )
            );
        """,
        {("nexk_subquery_unqualified_column", "db/policies/notes.sql:5")},
    ),
    "definer without search_path": (
        """
        create function private.is_member() returns boolean
        language sql security definer
        as 'select true';
        """,
        {("0011", "db/policies/notes.sql:1")},
    ),
    "definer in public": (
        """
        /* helpers */
        create function public.is_member() returns boolean
        language sql security definer set search_path = ''
        as 'select true';
        """,
        {("nexk_definer_function_exposed", "db/policies/notes.sql:2")},
    ),
    "view without security_invoker": (
        "create view public.v as select 1 as one;",
        {("0010", "db/policies/notes.sql:1")},
    ),
}

STATIC_GOOD = """
create policy notes_select on public.notes for select to authenticated
    using (owner_id in (select m.user_id from private.members as m where m.team_id = notes.team_id));
create policy notes_all on public.notes as restrictive for all to authenticated
    using ((select auth.jwt() ->> 'aal') = 'aal2');
create policy notes_update on public.notes for update to authenticated
    using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy notes_read_all on public.notes for select to authenticated using (true);
create function private.is_member() returns boolean
language sql security definer set search_path = '' as 'select true';
create policy notes_files on storage.objects for select to authenticated
    using (bucket_id = 'notes' and (storage.foldername(name))[1] = (select auth.uid())::text);
create view public.v with (security_invoker = true) as select 1 as one;
create view public.w as select 1 as one;
alter view public.w set (security_invoker = true);
create function private.late() returns boolean language sql security definer as 'select true';
alter function private.late() set search_path = '';
"""


@pytest.mark.parametrize("case", STATIC_CASES, ids=str)
def test_each_static_rule_reports_the_file_and_line_of_the_problem(case: str) -> None:
    sql, expected = STATIC_CASES[case]
    assert _static(sql) == expected


def test_compliant_sql_gives_no_static_finding() -> None:
    assert _static(STATIC_GOOD) == set()


def test_static_lint_names_files_relative_to_the_repository(tmp_path: Path) -> None:
    (tmp_path / "db" / "schema").mkdir(parents=True)
    (tmp_path / "db" / "policies").mkdir()
    (tmp_path / "db" / "schema" / "0001_views.sql").write_text(
        "-- a view\ncreate view public.v as select 1;\n"
    )
    (tmp_path / "db" / "policies" / "notes.sql").write_text(
        "\n\ncreate policy p on public.notes for select to authenticated using (owner_id = auth.uid());\n"
    )
    found = {(f.rule, f.where) for f in static_lint.lint_directory(tmp_path / "db")}
    assert found == {("0010", "db/schema/0001_views.sql:2"), ("0003", "db/policies/notes.sql:3")}


def test_a_bare_auth_call_put_into_the_repository_policies_is_reported_at_its_line(tmp_path: Path) -> None:
    """The static lint on the real policy files: unwrapping `(select auth.uid())` is caught where it is."""
    db_dir = tmp_path / "db"
    for sub in ("schema", "functions", "policies"):
        shutil.copytree(REPO_DB / sub, db_dir / sub)
    expected = set()
    for path in sorted((db_dir / "policies").glob("*.sql")):
        text = path.read_text()
        at = text.find("(select auth.uid())")
        if at >= 0:
            path.write_text(text[:at] + "auth.uid()" + text[at + len("(select auth.uid())") :])
            expected.add(("0003", f"db/policies/{path.name}:{text.count(chr(10), 0, at) + 1}"))
    found = {(f.rule, f.where) for f in static_lint.lint_directory(db_dir)}
    # A call unwrapped inside a policy's subquery still runs once per statement, so not every edit is a
    # finding; every finding must be one of the edits, at its line.
    assert found and found <= expected


def test_a_problem_both_lints_see_is_reported_once_with_its_file_and_line() -> None:
    static = [Finding("0003", "db/policies/notes.sql:3", 'public.notes policy "p"', "bare")]
    catalog = [
        Finding("0003", 'public.notes policy "p"', 'public.notes policy "p"', "bare"),
        Finding("0013", "public.plain", "public.plain", "off"),
    ]
    assert [f.where for f in merge(static, catalog)] == ["db/policies/notes.sql:3", "public.plain"]


# -- allow-list -------------------------------------------------------------------------------------------


def test_an_allowed_finding_is_kept_with_its_reason_and_no_longer_fails(tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "allow:\n  - rule: rls_not_forced\n    object: public.no*\n    reason: owner never reads it\n"
    )
    findings = [Finding("nexk_rls_not_forced", "public.notes", "public.notes", "not forced")]
    [reported] = apply_allow_list(findings, load_allow_list(allow))
    assert reported.allowed == "owner never reads it"
    assert not reported.fails


def test_an_allow_list_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text("allow:\n  - rule: '0013'\n    object: public.notes\n")
    with pytest.raises(Exception, match="reason"):
        load_allow_list(allow)


def test_the_repository_allow_list_is_valid_and_every_entry_gives_a_reason() -> None:
    assert all(isinstance(a, Allowance) and a.reason for a in load_allow_list())


def test_info_findings_never_fail_and_warnings_do() -> None:
    info, warn = (Finding("0008", "x", "x", "m"), Finding("0003", "y", "y", "m"))
    assert RULES["0008"].level is Level.INFO and RULES["0003"].level is Level.WARN
    assert {r.finding.rule: r.fails for r in apply_allow_list([info, warn], [])} == {
        "0008": False,
        "0003": True,
    }


# -- command line -----------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def bad_database(pg_server: Server) -> Iterator[str]:
    """A committed database with one table readable through the API and RLS off."""
    janitor = pg_server.janitor(f"nexk_lintbad_{_worker_tag()}")
    janitor.init()
    url = pg_server.url_for(janitor.dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_compat(conn)
        conn.execute(HARDENING)
        conn.execute("create table public.plain (id int)")
    yield url
    janitor.drop()


def test_cli_exits_non_zero_and_prints_json_when_a_rule_fails(bad_database: str) -> None:
    result = runner.invoke(app, ["lint", "--database-url", bad_database, "--json"])
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)
    plain = [f for f in found if f["object"] == "public.plain" and f["rule"] == "0013"]
    assert plain and plain[0]["level"] == "ERROR" and plain[0]["fails"] and plain[0]["hint"]


def test_cli_table_names_level_rule_place_and_hint(bad_database: str) -> None:
    result = runner.invoke(app, ["lint", "--database-url", bad_database])
    assert result.exit_code == 1
    for text in ("ERROR", "0013", "rls_disabled_in_public", "public.plain", "enable row level security"):
        assert text in result.stdout


def test_cli_prints_an_allowed_finding_with_its_reason_and_passes(bad_database: str, tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "allow:\n"
        + "".join(
            f"  - {{rule: {rule}, object: public.plain, reason: 'scratch [1] table'}}\n"
            for rule in ("'0013'", "rls_not_forced", "missing_mfa_policy")
        )
    )
    result = runner.invoke(app, ["lint", "--database-url", bad_database, "--allow-list", str(allow)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.count("allowed: scratch [1] table") == 3


def test_cli_help_says_which_levels_fail() -> None:
    result = runner.invoke(app, ["lint", "--help"])
    assert result.exit_code == 0
    assert "INFO" in result.stdout and "never fail" in result.stdout


def test_the_repository_db_directory_passes_the_static_lint() -> None:
    result = runner.invoke(app, ["lint", "--static-only", "--json"])
    failing = [f for f in json.loads(result.stdout) if f["fails"]]
    assert failing == [] and result.exit_code == 0


def test_the_repository_passes_the_full_lint_on_a_fresh_migrated_database(pg_server: Server) -> None:
    """`nexk rls lint` with no options: a throw-away database is migrated from db/ and linted."""
    result = runner.invoke(app, ["lint", "--json"])
    failing = [f"{f['where']}: {f['rule']} {f['message']}" for f in json.loads(result.stdout) if f["fails"]]
    assert failing == [], "\n".join(failing)
    assert result.exit_code == 0


def test_run_without_a_database_url_leaves_no_scratch_database_behind(pg_server: Server) -> None:
    run(static_only=False)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        mine = f"nexk_rls_lint_{os.getpid()}_%"  # only this process's: other sessions may be linting now
        left = conn.execute("select datname from pg_database where datname like %s", (mine,)).fetchall()
    assert left == []
