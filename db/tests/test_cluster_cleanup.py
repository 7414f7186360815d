"""Nothing left behind: a server home outside a clone goes when the clone goes (`nexk db gc`, and every start),
a test session stops the cluster it started (Ctrl-C too), and `nexk dev` stops everything on Ctrl-C.

As root with a clone the service user cannot reach (pytest's tmp folders are root-only, like /root), the
cluster's files live in a server home outside the clone: here the private NEXK_SERVER_ROOT of
`cluster_server_root`, never the machine's /var/lib/nexk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from db.cluster import OWNER_RECORD, LocalCluster, collect_garbage
from nexk.paths import REPO_ROOT


def _postmaster_pid(cluster: LocalCluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _exits(pid: int, within: float = 10.0) -> bool:
    """Whether the process is gone within `within` seconds: `pg_ctl stop -w` returns once the postmaster
    removed its pid file, a moment before the process itself has exited (longer on a loaded machine)."""
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _clone(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A clone folder only root can enter (like a clone in /root) and its state folder `.nexk`."""
    clone = tmp_path / name
    clone.mkdir(mode=0o700)
    return clone, clone / ".nexk"


NEXK = [
    sys.executable,
    "-c",
    "from nexk_cli.main import main; main()",
]  # the `nexk` command, this tree's code


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "NEXK_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("NEXK_DATABASE_URL", None)
    return env


def _outside(home: Path) -> bool:
    """Whether this clone's server files live outside it. Only root moves them out (CI and `make test` here
    run as root); as another user they stay in the clone's .nexk/ and go with it: nothing to collect."""
    if os.geteuid() == 0:
        return True
    assert LocalCluster(home).server_home == home
    return False


@pytest.fixture(autouse=True)
def _private_server_root(cluster_server_root: Path) -> None:
    """Every test here keeps its server homes in the private root, never the machine's /var/lib/nexk."""


def test_a_server_home_outside_the_clone_records_its_clone(tmp_path, cluster_server_root):
    _clone_dir, home = _clone(tmp_path, "clone")
    if not _outside(home):
        return
    cluster = LocalCluster(home)
    assert cluster.server_home.parent == cluster_server_root
    cluster.start()
    try:
        assert (cluster.server_home / OWNER_RECORD).read_text().strip() == str(home)
        assert (home / "pgdata").resolve() == cluster.data_dir
        assert collect_garbage().removed == []  # its clone still uses it
        assert cluster.is_running()
    finally:
        cluster.stop()


def test_gc_stops_the_server_of_a_deleted_clone_and_removes_its_files(tmp_path, cluster_server_root):
    clone, home = _clone(tmp_path, "clone")
    if not _outside(home):
        return
    cluster = LocalCluster(home)
    config = cluster.start()
    pid = _postmaster_pid(cluster)
    server_home = cluster.server_home

    shutil.rmtree(clone)  # the clone is deleted while its server still runs
    assert _alive(pid)
    garbage = collect_garbage()

    assert garbage.removed == [(server_home, home)]
    assert not server_home.exists()
    assert _exits(pid)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(config.url, connect_timeout=2)


def test_nexk_db_gc_and_every_start_remove_only_what_no_clone_uses(tmp_path, cluster_server_root):
    _gone_clone, gone_home = _clone(tmp_path, "gone")
    if not _outside(gone_home):
        return
    gone = LocalCluster(gone_home)
    gone.start()
    gone.stop()
    kept_clone, kept_home = _clone(tmp_path, "kept")
    kept = LocalCluster(kept_home)
    kept.start()
    kept.stop()
    legacy = cluster_server_root / "0123456789ab"  # made before homes recorded their clone
    (legacy / "pgdata").mkdir(parents=True)
    binaries = cluster_server_root / "postgresql-17.10"  # the binaries' copy is no server home
    binaries.mkdir()

    shutil.rmtree(_gone_clone)
    out = subprocess.run(
        [*NEXK, "db", "gc"],
        env=_env(kept_home),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"removed {gone.server_home} (its clone {gone_home} is gone)" in out
    assert f"kept {legacy}: it does not record its clone" in " ".join(out.split())
    assert not gone.server_home.exists()
    assert kept.server_home.exists() and legacy.exists() and binaries.exists()

    # A start collects too: delete the second clone, then start a third cluster.
    shutil.rmtree(kept_clone)
    _third_clone, third_home = _clone(tmp_path, "third")
    subprocess.run(
        [*NEXK, "db", "start"],
        env=_env(third_home),
        check=True,
        capture_output=True,
    )
    third = LocalCluster(third_home)
    try:
        assert not kept.server_home.exists()
        assert third.is_running()
    finally:
        third.stop()


def _session_test(tmp_path: Path, body: str, folder: str = "session") -> Path:
    test_file = tmp_path / folder / "test_uses_the_cluster.py"
    test_file.parent.mkdir()
    test_file.write_text(
        textwrap.dedent(
            """
            import signal

            import psycopg


            def test_uses_the_cluster(pg_server):
                with psycopg.connect(pg_server.url) as conn:
                    assert conn.execute("select 1").fetchone() == (1,)
            """
        )
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    return test_file


def _pytest(test_file: Path) -> list[str]:
    # Only the database harness plugin: the file lies outside the repository and its conftest.
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "db.testing",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        str(test_file),
    ]


def test_a_test_session_stops_the_cluster_it_started(tmp_path):
    _clone_dir, home = _clone(tmp_path, "clone")
    test_file = _session_test(tmp_path, "")
    result = subprocess.run(_pytest(test_file), env=_env(home), cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    cluster = LocalCluster(home)
    assert (cluster.data_dir / "PG_VERSION").exists()  # it did start one
    assert not cluster.is_running()


def test_a_test_session_leaves_running_a_cluster_it_found_running(tmp_path):
    _clone_dir, home = _clone(tmp_path, "clone")
    cluster = LocalCluster(home)
    cluster.start()
    try:
        test_file = _session_test(tmp_path, "")
        result = subprocess.run(
            _pytest(test_file), env=_env(home), cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert cluster.is_running()
    finally:
        cluster.stop()


def test_ctrl_c_in_a_test_session_stops_the_cluster_it_started(tmp_path):
    _clone_dir, home = _clone(tmp_path, "clone")
    test_file = _session_test(tmp_path, 'print("cluster in use", flush=True)\nsignal.pause()\n')
    with subprocess.Popen(
        _pytest(test_file), env=_env(home), cwd=tmp_path, stdout=subprocess.PIPE, text=True
    ) as session:
        assert session.stdout is not None
        for line in session.stdout:  # blocks until the test holds the cluster
            if "cluster in use" in line:
                break
        cluster = LocalCluster(home)
        assert cluster.is_running()
        session.send_signal(signal.SIGINT)
        rest = session.stdout.read()
        assert session.wait(timeout=120) == pytest.ExitCode.INTERRUPTED, rest
    assert "KeyboardInterrupt" in rest
    assert not cluster.is_running()


def test_of_two_concurrent_test_sessions_the_last_to_end_stops_the_cluster(tmp_path):
    _clone_dir, home = _clone(tmp_path, "clone")
    holding = _session_test(tmp_path, 'print("cluster in use", flush=True)\nsignal.pause()\n', "first")
    brief = _session_test(tmp_path, "", "second")
    cluster = LocalCluster(home)
    with subprocess.Popen(
        _pytest(holding), env=_env(home), cwd=tmp_path, stdout=subprocess.PIPE, text=True
    ) as first:
        assert first.stdout is not None
        for line in first.stdout:  # the first session started the cluster and holds it
            if "cluster in use" in line:
                break
        second = subprocess.run(_pytest(brief), env=_env(home), cwd=tmp_path, capture_output=True, text=True)
        assert second.returncode == 0, second.stdout + second.stderr
        assert cluster.is_running()  # the second ended first: the first still uses the cluster
        first.send_signal(signal.SIGINT)
        rest = first.stdout.read()
        assert first.wait(timeout=120) == pytest.ExitCode.INTERRUPTED, rest
    assert not cluster.is_running()


def test_ctrl_c_in_nexk_dev_stops_the_portal_and_the_database(tmp_path):
    _clone_dir, home = _clone(tmp_path, "clone")
    env = _env(home)
    env.pop("NEXK_PORTAL_URL", None)
    with subprocess.Popen(
        [*NEXK, "dev"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as dev:
        assert dev.stdout is not None
        seen = []
        for line in dev.stdout:  # migrations, the demo world, then uvicorn's own line once it listens
            seen.append(line)
            if "Uvicorn running on" in line:
                break
        assert any("Uvicorn running on" in line for line in seen), "".join(seen)
        cluster = LocalCluster(home)
        pid = _postmaster_pid(cluster)
        dev.send_signal(signal.SIGINT)
        rest = dev.stdout.read()
        assert dev.wait(timeout=120) == 0, "".join(seen) + rest
    assert "PostgreSQL stopped." in rest
    assert not cluster.is_running()
    assert _exits(pid)


def test_rls_lint_stops_the_cluster_it_started_and_leaves_a_running_one_up(tmp_path):
    # `make test` runs `nexk rls lint` (a scratch database) before the suites: it must not leave a server.
    _clone_dir, home = _clone(tmp_path, "clone")
    cluster = LocalCluster(home)
    linted = subprocess.run(
        [*NEXK, "rls", "lint"], env=_env(home), cwd=tmp_path, capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "failing finding(s)" in linted.stdout
    assert not cluster.is_running()

    cluster.start()  # the developer's cluster (`nexk db start`) stays up
    try:
        linted = subprocess.run(
            [*NEXK, "rls", "lint"], env=_env(home), cwd=tmp_path, capture_output=True, text=True
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr
        assert cluster.is_running()
    finally:
        cluster.stop()
