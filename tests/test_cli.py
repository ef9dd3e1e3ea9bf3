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

FLAVATIX_DB = [sys.executable, "-m", "flavatix_db.cli"]


@pytest.fixture
def cluster_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="flavatix-cli-"))
    yield home
    cluster.Cluster(home).stop()
    shutil.rmtree(home, ignore_errors=True)


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLAVATIX_DB, *args],
        env={**os.environ, "FLAVATIX_DB_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
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
