"""`python -m bench` (make bench): its plan covers every benchmark module, and it refuses unknown names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import __main__ as bench_main


def test_the_plan_runs_every_benchmark_module() -> None:
    assert sorted(b.name for b in bench_main.PLAN) == bench_main.modules()


def test_the_world_is_seeded_before_the_benchmarks_that_read_it() -> None:
    names = [b.name for b in bench_main.PLAN]
    assert names[0] == "seed_load" and bench_main.PLAN[0].args == ("--keep", bench_main.WORLD)
    for b in bench_main.PLAN:
        if b.needs_world and "--database" in b.args:
            assert b.args[b.args.index("--database") + 1] == bench_main.WORLD


def test_list_prints_each_benchmark_with_its_arguments() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--list"], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == [
        f"{b.name}: python -m bench.{b.name} {' '.join(b.args)}" for b in bench_main.PLAN
    ]


def test_an_unknown_benchmark_name_is_refused_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_main.main(["--only", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert (
        "unknown benchmark nope: choose from seed_load, rls_overhead, portal_wrk, portal_load, isolation"
        in err
    )


@pytest.mark.parametrize("name", bench_main.modules())
def test_each_benchmark_parses_its_arguments(name: str) -> None:
    """Each module imports and its own --help answers (the full runs take minutes: `make bench`)."""
    result = subprocess.run([sys.executable, "-m", f"bench.{name}", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
