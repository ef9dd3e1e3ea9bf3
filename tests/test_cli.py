"""The flavatix-db command: the embedded cluster and its one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flavatix_db import cli, cluster
from tests.dbtools import ALEMBIC, PROJECT_ROOT, load_sample

FLAVATIX_DB = [sys.executable, "-m", "flavatix_db.cli"]


@pytest.fixture
def cluster_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="flavatix-cli-"))
    yield home
    cluster.Cluster(home).stop()
    shutil.rmtree(home, ignore_errors=True)


def run(
    *args: str, home: Path | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """flavatix-db in a process of its own; with ``home``, its embedded cluster lives there."""
    home_env = {} if home is None else {"FLAVATIX_DB_HOME": str(home)}
    return subprocess.run(
        [*FLAVATIX_DB, *args],
        env={**os.environ, **home_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_db_start_status_url_stop(cluster_home: Path) -> None:
    assert run("db", "status", home=cluster_home).returncode == 3
    started = run("db", "start", home=cluster_home)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    assert run("db", "url", home=cluster_home).stdout.strip() == url
    assert "running at" in run("db", "status", home=cluster_home).stdout
    # The URL works for psql, and pg_stat_statements was preloaded.
    psql = subprocess.run(
        [
            "psql",
            url,
            "-Atc",
            "CREATE EXTENSION pg_stat_statements; SELECT count(*) >= 0 FROM pg_stat_statements",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert psql.stdout.strip().endswith("t"), psql.stderr
    # Starting again is a no-op that reports the same URL.
    assert run("db", "start", home=cluster_home).stdout.strip() == url
    assert run("db", "stop", home=cluster_home).stdout.strip() == "stopped"
    assert run("db", "stop", home=cluster_home).stdout.strip() == "not running"


def test_missing_server_binaries_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("PG_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("FLAVATIX_DB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cluster, "DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    assert cli.main(["db", "start"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "install the postgresql and postgresql-contrib packages" in err


def test_bad_database_url_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--url", "mysql://someone@host/db", "demo"]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "flavatix-db: --url must be a postgresql:// URL, not mysql:// (mysql://someone@host/db)"
    )


def test_unreachable_database_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--url", "postgres://nobody@127.0.0.1:1/nowhere", "demo"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("flavatix-db: cannot connect to postgresql+psycopg2://nobody@127.0.0.1:1")


def test_demo_migrates_loads_and_shows_the_result(
    empty_db_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flavatix_db import migrations

    monkeypatch.chdir(tmp_path)  # with --url, the wheel is drawn in the current folder
    assert cli.main(["--url", empty_db_url, "demo", "--rows", "3000"]) == 0
    out = capsys.readouterr().out
    assert f"revision: {migrations.head_revision()} (head)" in out
    assert "loaded 3000 sample descriptors" in out
    assert "spellings that revision 001 folds into one normalized form" in out
    assert "find_similar_descriptors('vanila'): 'vanil" in out
    assert "combined wheel of the most active user" in out
    assert out.rstrip().endswith("the most active user's wheel, drawn: wheel-most-active-user.png")
    assert (tmp_path / "wheel-most-active-user.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("args", "says", "status"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'", 2),
        (["partition", "migrate", "--batch-size", "nope"], "not a whole number: 'nope'", 2),
        (["partition", "migrate", "--batch-size", "0"], "must be 1 or more, not 0", 2),
        (["partition", "explode"], "invalid choice: 'explode'", 2),
        (["seed-data", "--rows", "-5"], "must be 1 or more, not -5", 2),
        (["upgrade-under-load", "--downgrade-to"], "expected one argument", 2),
        (["--url", "http://x/y", "partition", "status"], "must be a postgresql:// URL", 1),
        (["--url", "postgresql://[bad", "partition", "status"], "names no database", 1),
        (["--url", "postgres://nobody@127.0.0.1:1/x", "partition", "status"], "port 1 failed", 1),
        (["--url", "postgres://nobody@127.0.0.1:1/x", "upgrade-under-load"], "port 1 failed", 1),
        (["--url", "postgres://nobody@127.0.0.1:1/x", "seed-data", "--rows", "5"], "port 1", 1),
        (
            ["--url", "postgres://n@127.0.0.1:1/x", "wheel", "--user", "me", "--out", "w.svg"],
            "--user must be a UUID",
            1,
        ),
    ],
)
def test_bad_flags_urls_and_servers_are_one_clear_line(
    args: list[str], says: str, status: int, tmp_path: Path
) -> None:
    result = run(*args, home=tmp_path)
    assert result.returncode == status
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("flavatix-db")
    assert says in lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-x", "url=mysql://someone@host/db"], "must be a postgresql:// URL"),
        (["-x", "url=postgresql://nobody@127.0.0.1:1/x"], "port 1 failed"),
        (["-x", "url=postgresql://n@127.0.0.1:1/x", "-x", "lock_timeout=soon"], "3s, 500ms"),
    ],
)
def test_alembic_with_a_bad_url_or_setting_is_one_clear_line(args: list[str], says: str) -> None:
    result = subprocess.run(
        [*ALEMBIC, *args, "upgrade", "head"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout.strip().startswith("FAILED: ")
    assert says in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_upgrade_under_load_both_ways(empty_db_url: str) -> None:
    """Smoke test of the measurement: upgrade, then downgrade to 000, under traffic."""
    result = run(
        *("--url", empty_db_url, "upgrade-under-load", "--rows", "500", "--downgrade-to", "000"),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    out = result.stdout
    assert "alembic upgrade head: " in out
    assert "alembic downgrade 000: " in out
    for kind in ("INSERT", "SELECT", "UPDATE", "DELETE"):
        assert f"concurrent single-row {kind}: " in out
    assert out.count("failed statements: 0") == 2


def test_partition_migrate_with_traffic_reports_the_writer_alone_apart(
    head_plain_db_url: str,
) -> None:
    """The writer's waits before the migration and beside it are reported apart."""
    load_sample(head_plain_db_url, 300)
    result = run(
        *("--url", head_plain_db_url, "partition", "migrate", "--with-traffic"),
        *("--baseline", "1", "--batch-size", "100"),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    out = result.stdout
    assert "switch: flavor_descriptors is now partitioned" in out
    alone = next(line for line in out.splitlines() if line.startswith("the writer alone for 1 s"))
    beside = next(line for line in out.splitlines() if line.startswith("concurrent writer:"))
    for line in (alone, beside):
        assert "longest wait" in line and "; 0 failed" in line
        assert int(line.split(" INSERT")[0].split()[-1]) > 0
