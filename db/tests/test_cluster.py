"""The project's own PostgreSQL: created on demand, run unprivileged, and careful with data it did not make."""

from __future__ import annotations

import json
import os
import pwd
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db.cluster import SUPPORTED_MAJOR, LocalCluster, find_binaries, free_port
from nexk.errors import NexkError


@pytest.fixture
def cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster_server_root: Path
) -> Iterator[LocalCluster]:
    home = tmp_path / "nexk-home"
    monkeypatch.setenv("NEXK_HOME", str(home))
    tmp_path.chmod(0o755)  # the service user must reach the folder when the tests run as root
    made = LocalCluster(home)
    yield made
    made.stop()


def test_the_bundled_binaries_are_supabases_major_version():
    assert find_binaries().major_version() == SUPPORTED_MAJOR


def test_a_new_cluster_starts_answers_on_its_url_and_stops(cluster):
    config = cluster.start()
    with psycopg.connect(config.url) as conn:
        version = conn.execute("show server_version_num").fetchone()[0]
        listen = conn.execute("show listen_addresses").fetchone()[0]
    assert int(version) // 10000 == SUPPORTED_MAJOR
    assert listen == "127.0.0.1"
    assert cluster.start().port == config.port  # idempotent: already running
    assert cluster.stop() is True
    assert cluster.stop() is False
    assert not cluster.is_running()


def test_a_second_start_reuses_the_data(cluster):
    config = cluster.start()
    with psycopg.connect(config.url, autocommit=True) as conn:
        conn.execute("create table kept (id int)")
    cluster.stop()
    config = cluster.start()
    with psycopg.connect(config.url) as conn:
        assert conn.execute("select to_regclass('public.kept') is not null").fetchone()[0]


def test_a_cluster_made_before_the_portal_login_gets_its_own_password_for_it_once(cluster):
    """cluster.json written before db/schema/0375 has no nexk_portal password: the first load makes one and
    keeps it (0600), so the runner and the portal agree on it from then on."""
    cluster.home.mkdir(parents=True, exist_ok=True)
    old = {"port": 54399, "password": "owner-pw", "authenticator_password": "auth-pw", "service_user": None}
    cluster.config_file.write_text(json.dumps(old))
    first = cluster.load_config()
    assert first is not None and len(first.portal_password) >= 24
    assert json.loads(cluster.config_file.read_text())["portal_password"] == first.portal_password
    assert cluster.config_file.stat().st_mode & 0o777 == 0o600
    again = cluster.load_config()
    assert again is not None and again.portal_password == first.portal_password
    assert again.portal_url == f"postgresql://nexk_portal:{first.portal_password}@127.0.0.1:54399/postgres"
    assert (again.password, again.authenticator_password) == ("owner-pw", "auth-pw")


def test_the_server_never_runs_as_root_and_as_root_uses_the_unprivileged_service_user(cluster):
    config = cluster.start()
    pid = int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])
    owner = Path(f"/proc/{pid}").stat().st_uid
    assert owner != 0
    if os.geteuid() == 0:  # CI runs as root: PostgreSQL must have been started as the service user
        assert config.service_user is not None
        assert pwd.getpwuid(owner).pw_name == config.service_user
    else:
        assert config.service_user is None and owner == os.geteuid()


def test_a_busy_port_is_skipped(cluster):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert free_port(taken) != taken


def test_a_busy_remembered_port_makes_the_cluster_move_to_a_free_one(cluster):
    config = cluster.start()
    cluster.stop()
    with socket.socket() as squatter:
        # SO_REUSEADDR: the stopped server's sockets may linger in TIME_WAIT on that port; a listener still
        # keeps PostgreSQL from binding it, which is what this test needs.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", config.port))
        squatter.listen()
        moved = cluster.start()
    assert moved.port != config.port
    with psycopg.connect(moved.url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_a_data_directory_that_is_not_ours_is_refused_and_left_alone(cluster):
    cluster.data_dir.mkdir(parents=True)
    precious = cluster.data_dir / "thesis.txt"
    precious.write_text("years of work")
    with pytest.raises(NexkError, match="not a cluster created by nexk"):
        cluster.start()
    assert precious.read_text() == "years of work"


def test_a_data_directory_from_another_postgresql_version_is_refused(cluster):
    cluster.start()
    cluster.stop()
    (cluster.data_dir / "PG_VERSION").write_text("16\n")
    with pytest.raises(NexkError, match="created by PostgreSQL 16 but the binaries are PostgreSQL 17"):
        cluster.start()
    assert (cluster.data_dir / "base").is_dir()  # nothing was deleted


def test_missing_binaries_are_reported_in_one_line_saying_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setenv("NEXK_PG_BIN", str(tmp_path))
    with pytest.raises(NexkError, match="has no `postgres` binary") as caught:
        find_binaries()
    assert "\n" not in str(caught.value)
