"""The platform's packages depend one way, from the base to the top (README, "Layers"):

    nexk  <  db  <  app  <  infra  <  compliance  <  nexk_cli, bench

A package imports only itself and the packages below it, anywhere in its code (functions included: a lazy
import is still a dependency). Checked by reading every module's imports with `ast`, without importing them.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Bottom first. Packages on one line may not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("nexk",),  # errors, paths and the shared contracts (routes, variable names, the subprocessor register)
    ("db",),  # the database: local cluster, migrations, RLS tooling
    ("app",),  # the portal, including the e-mails it sends
    ("infra",),  # the Pulumi program: deploys the portal and the database, provisions the portal's e-mails
    ("compliance",),  # the GDPR register and its checks against db, app and infra
    ("nexk_cli", "bench"),  # the `nexk` command and the benchmarks
]
LEVEL = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _sources(package: str) -> list[Path]:
    # A package's own tests (db/tests/) sit at the top, like tests/: they may import anything.
    return [
        p
        for p in sorted((REPO_ROOT / package).rglob("*.py"))
        if "tests" not in p.relative_to(REPO_ROOT).parts
    ]


def violations() -> list[str]:
    found = []
    for package, level in LEVEL.items():
        for path in _sources(package):
            for line, module in _imports(path):
                target = module.split(".")[0]
                if target in LEVEL and target != package and LEVEL[target] >= level:
                    found.append(
                        f"{path.relative_to(REPO_ROOT)}:{line}: {package} imports {module} ({target} is not below it)"
                    )
    return found


def test_every_package_imports_only_the_packages_below_it() -> None:
    assert violations() == []


def test_the_base_package_imports_nothing_else_of_the_project() -> None:
    project = set(LEVEL) | {"tests"}
    imported = {
        module for path in _sources("nexk") for _, module in _imports(path) if module.split(".")[0] in project
    }
    assert {module.split(".")[0] for module in imported} <= {"nexk"}


def test_every_top_level_package_has_a_place_in_the_layers() -> None:
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")}
    assert packages <= set(LEVEL), f"place {sorted(packages - set(LEVEL))} in LAYERS (and the README)"


def test_the_check_names_a_file_that_imports_upwards(tmp_path: Path) -> None:
    # The walker sees imports inside functions too: that is where the CLI's lazy imports live.
    source = tmp_path / "module.py"
    source.write_text("def f():\n    from app.main import app\n    return app\n")
    assert _imports(source) == [(2, "app.main")]
