"""squawk (PyPI squawk-cli) lints every migration that db/squawk-baseline.txt does not list, with the
configuration of the repository's .squawk.toml; findings about a table created earlier in the same file are
dropped (nothing else can hold a lock on it yet). docs/migrations.md says how to satisfy each rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pglast
import pytest

from db.migrate import DB_DIR, NO_TRANSACTION, SCHEMA_DIR

REPO = DB_DIR.parent
CONFIG = REPO / ".squawk.toml"
BASELINE = DB_DIR / "squawk-baseline.txt"
# The newest migration when squawk came in: the baseline may never grow past it.
BASELINE_ENDS_AT = "0320"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int  # 1-based
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


def squawk_binary() -> str:
    found = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    assert found, "squawk is not installed: `pip install squawk-cli` (the dev extra of pyproject.toml)"
    return found


def baseline() -> list[str]:
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _tables_created_before(sql: str) -> list[tuple[int, str | None, set[str]]]:
    """For each statement: (start offset, the table it alters or indexes, tables created before it)."""
    created: set[str] = set()
    out = []
    for piece in pglast.split(sql, with_parser=True, only_slices=True):
        stmt = pglast.parse_sql(sql[piece])[0].stmt
        target = None
        if isinstance(stmt, pglast.ast.AlterTableStmt | pglast.ast.IndexStmt):
            target = f"{stmt.relation.schemaname or 'public'}.{stmt.relation.relname}"
        out.append((piece.start, target, set(created)))
        if isinstance(stmt, pglast.ast.CreateStmt | pglast.ast.CreateTableAsStmt):
            rel = stmt.relation if isinstance(stmt, pglast.ast.CreateStmt) else stmt.into.rel
            created.add(f"{rel.schemaname or 'public'}.{rel.relname}")
    return out


def _on_a_table_created_in_the_same_file(path: Path, line: int) -> bool:
    sql = path.read_text(encoding="utf-8")
    offset = sum(len(text) + 1 for text in sql.split("\n")[: line - 1])
    statements = _tables_created_before(sql)
    candidates = [s for s in statements if s[0] <= offset] or statements[:1]
    _, target, created = candidates[-1]
    return target is not None and target in created


def lint(paths: list[Path]) -> list[Finding]:
    """squawk's findings on `paths`, with the repository's configuration and the same-file table rule.

    A `-- nexk: no-transaction` file is linted as the runner applies it, statement by statement outside a
    transaction (squawk's `--no-assume-in-transaction`), every other file as wrapped in one transaction.
    """
    alone = [p for p in paths if NO_TRANSACTION.search(p.read_text(encoding="utf-8"))]
    wrapped = [p for p in paths if p not in alone]
    return _lint(wrapped, []) + _lint(alone, ["--no-assume-in-transaction"])


def _lint(paths: list[Path], options: list[str]) -> list[Finding]:
    if not paths:
        return []
    result = subprocess.run(
        [squawk_binary(), "--config", str(CONFIG), *options, "--reporter", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode in (0, 1) and result.stdout.strip().startswith("["), (
        result.stderr or result.stdout
    )
    found = []
    for item in json.loads(result.stdout):
        path = Path(item["file"]) if Path(item["file"]).is_absolute() else REPO / item["file"]
        line = int(item["line"]) + 1  # squawk counts lines from 0
        if not _on_a_table_created_in_the_same_file(path, line):
            name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name
            found.append(Finding(name, line, item["rule_name"], item["message"]))
    return found


def test_every_migration_after_the_baseline_passes_squawk():
    known = set(baseline())
    new = [p for p in sorted(SCHEMA_DIR.glob("*.sql")) if p.name not in known]
    assert new, "expected migrations to lint (0362_baseline.sql at least)"
    found = lint(new)
    assert not found, "squawk (docs/migrations.md says how to fix each):\n" + "\n".join(map(str, found))


def test_the_baseline_lists_only_migrations_that_existed_when_squawk_came_in():
    names = baseline()
    assert names == sorted(names) and len(names) == len(set(names))
    assert all((SCHEMA_DIR / name).is_file() for name in names), "the baseline names a missing file"
    late = [name for name in names if name[:4] > BASELINE_ENDS_AT]
    assert not late, f"new migrations cannot be baselined, fix them instead: {late}"


UNSAFE = """-- notes get an index, a foreign key, a check and a required column, the blocking way
create index notes_body_idx on public.notes (body);
alter table public.notes add constraint notes_parent_fk foreign key (parent_id) references public.notes (id);
alter table public.notes add constraint notes_body_check check (body <> '');
alter table public.notes add column title text not null;
alter table public.notes alter column body set not null;
"""

SAME_FILE = """-- a new table and everything about it in one file: nobody else can be using it yet
create table public.drafts (id bigint primary key, parent_id bigint, body text);
create index drafts_body_idx on public.drafts (body);
alter table public.drafts add constraint drafts_parent_fk foreign key (parent_id) references public.drafts (id);
alter table public.drafts add constraint drafts_body_check check (body <> '');
alter table public.drafts alter column body set not null;
"""

SAFE = """-- the same changes to a live table, expand-style (docs/migrations.md)
alter table public.notes add constraint notes_parent_fk foreign key (parent_id) references public.notes (id)
not valid;
alter table public.notes add constraint notes_body_check check (body <> '') not valid;
alter table public.notes add column title text;
"""


@pytest.mark.parametrize(
    ("sql", "rules"),
    [
        (
            UNSAFE,
            {
                (2, "require-concurrent-index-creation"),
                (3, "constraint-missing-not-valid"),
                (3, "adding-foreign-key-constraint"),
                (4, "constraint-missing-not-valid"),
                (5, "adding-required-field"),
                (6, "adding-not-nullable-field"),
            },
        ),
        (SAME_FILE, set()),
        (SAFE, set()),
    ],
    ids=["unsafe on a live table", "table created in the same file", "expand-style"],
)
def test_squawk_flags_blocking_changes_to_live_tables_only(tmp_path, sql, rules):
    path = tmp_path / "0999_example.sql"
    path.write_text(sql)
    found = lint([path])
    assert {(f.line, f.rule) for f in found} == rules
