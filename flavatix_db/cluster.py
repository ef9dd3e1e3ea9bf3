"""A private PostgreSQL cluster that the project starts itself.

It backs the embedded default database (no DATABASE_URL needed) and the test
suite. initdb and pg_ctl refuse to run as root, so when the caller is root the
server runs as the ``postgres`` OS user, in a folder that user owns.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg2

MIN_SERVER_MAJOR = 15
SERVER_OS_USER = "postgres"
SUPERUSER = "postgres"
DEFAULT_DATABASE = "flavatix"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"

# Settings every cluster of ours gets. Loopback only, no Unix socket (the
# path would have to be writable and short), pg_stat_statements preloaded
# because its view only answers when the library is loaded at start.
BASE_SETTINGS: Mapping[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "all",
    "max_connections": "100",
    "shared_buffers": "'1GB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'4GB'",
    "effective_cache_size": "'8GB'",
    "random_page_cost": "1.1",
    "log_min_messages": "warning",
}

# For throwaway clusters (tests): durability buys nothing there.
EPHEMERAL_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'256MB'",
}


class ClusterError(RuntimeError):
    """Something about the embedded cluster a user has to fix; the message says what."""


def find_bin_dir() -> Path:
    """Locate PostgreSQL server binaries of a supported version.

    Order: $PG_BIN, ``pg_config --bindir``, then the Debian layout (newest first).
    """
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")), key=_major_of_path, reverse=True)
    candidates.extend(debian)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            major = server_major(bindir)
            if major >= MIN_SERVER_MAJOR:
                return bindir
    raise ClusterError(
        f"no PostgreSQL server {MIN_SERVER_MAJOR}+ binaries found (initdb, pg_ctl): "
        "install the postgresql and postgresql-contrib packages, or set PG_BIN to their folder"
    )


def _major_of_path(path: Path) -> int:
    match = re.search(r"/(\d+)/bin$", str(path))
    return int(match.group(1)) if match else 0


def server_major(bindir: Path) -> int:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(match.group(1)) if match else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runuser() -> str:
    # runuser lives in sbin, which is not always on a root PATH.
    for candidate in (shutil.which("runuser"), "/usr/sbin/runuser", "/sbin/runuser"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ClusterError("running as root needs runuser (util-linux) to start PostgreSQL")


def _as_server_user(cmd: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return [_runuser(), "-u", SERVER_OS_USER, "--", *cmd]
    return list(cmd)


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_OS_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass(frozen=True)
class Cluster:
    """A cluster living in ``home``: ``data/``, ``server.log`` and ``cluster.json``."""

    home: Path
    database: str = DEFAULT_DATABASE

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    @property
    def state_file(self) -> Path:
        return self.home / "cluster.json"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def port(self) -> int | None:
        try:
            return int(json.loads(self.state_file.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return None

    def url(self, database: str | None = None) -> str:
        port = self.port()
        if port is None:
            raise ClusterError(f"the embedded cluster in {self.home} was never started")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database or self.database}"

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        bindir = find_bin_dir()
        result = subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "status", "-D", str(self.data_dir)]),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0

    def init(self, settings: Mapping[str, str] | None = None) -> None:
        bindir = find_bin_dir()
        self.home.mkdir(parents=True, exist_ok=True)
        _give_to_server_user(self.home)
        self.home.chmod(0o700)
        if os.geteuid() == 0 and not _server_user_can_enter(self.home):
            raise ClusterError(
                f"the {SERVER_OS_USER} OS user cannot reach {self.home}: "
                "set FLAVATIX_DB_HOME to a folder it can reach (for example under /var/tmp)"
            )
        result = subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {_last_line(result.stderr or result.stdout)}")
        conf = {**BASE_SETTINGS, **(settings or {})}
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        with (self.data_dir / "postgresql.conf").open("a") as handle:
            handle.write("\n# flavatix-db settings\n" + lines)

    def start(self, settings: Mapping[str, str] | None = None) -> str:
        """Start the cluster (initializing it first if needed) and return its URL."""
        if not self.initialized:
            self.init(settings)
        if self.is_running():
            return self.url()
        bindir = find_bin_dir()
        port = self.port()
        if port is None or not _port_is_free(port):
            port = free_port()
        self.state_file.write_text(json.dumps({"port": port}))
        result = subprocess.run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    f"-p {port}",
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"the embedded PostgreSQL did not start ({_last_line(result.stderr)}); "
                f"see {self.log_file}"
            )
        self._ensure_database()
        return self.url()

    def stop(self) -> bool:
        """Stop the cluster; returns False when it was not running."""
        if not self.is_running():
            return False
        bindir = find_bin_dir()
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)]
            ),
            capture_output=True,
            check=True,
        )
        return True

    def _ensure_database(self) -> None:
        conn = psycopg2.connect(self.url("postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _server_user_can_enter(path: Path) -> bool:
    probe = subprocess.run(_as_server_user(["test", "-w", str(path)]), check=False)
    return probe.returncode == 0


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def default_home() -> Path:
    """The embedded cluster's folder: $FLAVATIX_DB_HOME, else .flavatix-db in the project."""
    if os.environ.get("FLAVATIX_DB_HOME"):
        return Path(os.environ["FLAVATIX_DB_HOME"]).resolve()
    return Path(__file__).resolve().parent.parent / ".flavatix-db"


def embedded() -> Cluster:
    return Cluster(default_home())
