"""The documentation tells the truth about this repository: it points at nothing the repository does not have,
and the README's layout table names every folder."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# What points outside the repository: the team's private notes, sibling folders, the tracker's numbers.
# A reader of a clone can follow none of them, so the text must state the fact itself.
OUTSIDE = re.compile(
    r"\b(?:rls|vendors|style)\.md\b"
    r"|(?<!docs/)(?<![\w/])compliance\.md\b"
    r"|\.\./shared\b|\bshared/(?:notes|seed)\b|/work/"
    r"|(?<!squawk )\b[Ii]ssues? #?\d+"
)
# Applied migrations are never edited (the runner refuses), so their historical comments stay as written.
NEVER_EDITED = ("db/schema/",)
TEXT = (".py", ".md", ".html", ".sql", ".yaml", ".yml", ".toml", ".txt", ".json", ".cfg")


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return [path for path in listed.stdout.splitlines() if (REPO_ROOT / path).is_file()]


def test_no_file_points_at_something_outside_the_repository() -> None:
    found = []
    for path in _tracked():
        if not path.endswith(TEXT) or path.startswith(NEVER_EDITED) or path == "uv.lock":
            continue
        for number, line in enumerate((REPO_ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line) and path != "tests/test_docs.py":
                found.append(f"{path}:{number}: {line.strip()[:120]}")
    assert found == [], "say the fact itself instead of pointing outside the repository:\n" + "\n".join(found)


def _layout_table() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| folder | what it is |")
    return readme[start : readme.index("\n\n", start)]


def test_the_readme_layout_table_names_every_folder_and_every_packages_sub_folders() -> None:
    table = _layout_table()
    rows = [row.split("|")[1] for row in table.splitlines()[2:]]
    named = set(re.findall(r"`([^`/]+)/`", " ".join(rows)))
    tracked = _tracked()
    top = {path.split("/")[0] for path in tracked if "/" in path}
    assert top <= named, f"add {sorted(top - named)} to the README's layout table"
    packages = {
        path.split("/")[0] for path in tracked if path.count("/") == 1 and path.endswith("/__init__.py")
    }
    subfolders = {
        "/".join(path.split("/")[:2])
        for path in tracked
        if path.split("/")[0] in packages and path.count("/") >= 2
    }
    missing = sorted(folder for folder in subfolders if f"`{folder}/`" not in table)
    assert missing == [], f"name {missing} in the README's layout table"


def test_the_layout_check_reads_the_folder_column() -> None:
    rows = [row.split("|")[1] for row in _layout_table().splitlines()[2:]]
    assert any("`nexk/`" in row for row in rows) and any("`db/`" in row for row in rows)


def test_the_readme_lists_every_document_in_docs() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documents = sorted(f"docs/{path.name}" for path in (REPO_ROOT / "docs").glob("*.md"))
    assert [doc for doc in documents if f"`{doc}`" not in readme] == []
