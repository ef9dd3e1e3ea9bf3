"""alembic/env.py: offline rendering, the advisory lock, lock_timeout with retry, bad URLs."""

from __future__ import annotations

import re
import subprocess
import time

from alembic.script import ScriptDirectory

from flavatix_db import migrations
from tests.dbtools import ALEMBIC, PROJECT_ROOT, connect, load_sample, run_alembic, scalar

VERSION_NUM = "SELECT version_num FROM flavatix_migrations.alembic_version"


def test_offline_sql_renders_every_revision(empty_db_url: str) -> None:
    result = run_alembic(empty_db_url, "upgrade", "000:head", "--sql")
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    assert "SET lock_timeout = '3s'" in sql
    assert "SELECT pg_advisory_lock(" in sql
    assert "CREATE INDEX CONCURRENTLY" in sql
    # Each revision after 000 stamps the version table in its own transaction.
    later = len(list(ScriptDirectory.from_config(migrations.alembic_config()).walk_revisions())) - 1
    # Counted at line starts: revision 007 stores downgrades, stamps included, as text.
    stamps = re.findall(r"^UPDATE flavatix_migrations\.alembic_version SET version_num=", sql, re.M)
    assert len(stamps) == later
    assert sql.count("\nBEGIN;") >= later
    # Offline mode never touched the database.
    assert scalar(empty_db_url, "SELECT to_regclass('public.alembic_version')") is None
    assert scalar(empty_db_url, "SELECT to_regnamespace('flavatix_migrations')") is None


def test_offline_sql_renders_from_an_empty_database(empty_db_url: str) -> None:
    result = run_alembic(empty_db_url, "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE public.flavor_descriptors" in result.stdout
    assert "CREATE SCHEMA flavatix_migrations" in result.stdout
    assert "CREATE TABLE flavatix_migrations.alembic_version" in result.stdout
    assert "INSERT INTO flavatix_migrations.alembic_version" in result.stdout


def test_offline_downgrade_renders(empty_db_url: str) -> None:
    result = run_alembic(empty_db_url, "downgrade", "head:000", "--sql")
    assert result.returncode == 0, result.stderr
    assert "DROP INDEX CONCURRENTLY IF EXISTS" in result.stdout


def test_two_concurrent_upgrades_both_succeed_and_one_applies(baseline_db_url: str) -> None:
    load_sample(baseline_db_url, 20000)
    run_alembic(baseline_db_url, "stamp", "000")
    env = {"DATABASE_URL": baseline_db_url}
    procs = [
        subprocess.Popen(
            [*ALEMBIC, "upgrade", "head"],
            cwd=PROJECT_ROOT,
            env={**_base_env(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    logs = "".join(err for _, err in outputs)
    assert logs.count("Running upgrade 000 -> 001") == 1, logs
    assert "another migration is running" in logs
    assert scalar(baseline_db_url, VERSION_NUM) == (migrations.head_revision())


def test_lock_held_elsewhere_makes_the_migration_give_up_then_fail(baseline_db_url: str) -> None:
    with connect(baseline_db_url, autocommit=False) as blocker, blocker.cursor() as cur:
        cur.execute("LOCK TABLE public.flavor_descriptors IN ACCESS SHARE MODE")
        started = time.monotonic()
        result = run_alembic(
            baseline_db_url,
            "-x",
            "lock_timeout=500ms",
            "-x",
            "lock_retries=1",
            "upgrade",
            "head",
            timeout=120,
        )
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert result.returncode != 0
    assert "lock timeout" in result.stderr
    assert "retrying" in result.stderr
    # Two attempts of 0.5 s plus a 1 s pause: it gave up instead of hanging.
    assert elapsed < 60
    assert scalar(baseline_db_url, VERSION_NUM) == "000"


def test_lock_released_during_backoff_lets_the_retry_finish(baseline_db_url: str) -> None:
    with connect(baseline_db_url, autocommit=False) as blocker, blocker.cursor() as cur:
        cur.execute("LOCK TABLE public.flavor_descriptors IN ACCESS SHARE MODE")
        proc = subprocess.Popen(
            [*ALEMBIC, "-x", "lock_timeout=500ms", "-x", "lock_retries=4", "upgrade", "head"],
            cwd=PROJECT_ROOT,
            env={**_base_env(), "DATABASE_URL": baseline_db_url},
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        seen = []
        # Release the lock only once the migration has given up on it at least once.
        for line in proc.stderr:
            seen.append(line)
            if "retrying" in line:
                blocker.rollback()
                break
        rest = proc.stderr.read()
        proc.wait(timeout=300)
    assert proc.returncode == 0, "".join(seen) + rest
    assert any("retrying" in line for line in seen)
    assert scalar(baseline_db_url, VERSION_NUM) == (migrations.head_revision())


def test_unreachable_database_is_one_clear_line() -> None:
    result = run_alembic("postgresql://nobody@127.0.0.1:1/nowhere", "upgrade", "head")
    assert result.returncode != 0
    assert "cannot connect to postgresql+psycopg2://nobody@127.0.0.1:1/nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_non_postgres_url_is_one_clear_line() -> None:
    result = run_alembic("mysql://someone@localhost/db", "upgrade", "head")
    assert result.returncode != 0
    assert "must be a postgresql:// URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_lock_timeout_setting_is_rejected(baseline_db_url: str) -> None:
    result = run_alembic(baseline_db_url, "-x", "lock_timeout=soon", "upgrade", "head")
    assert result.returncode != 0
    assert "lock_timeout must look like" in result.stderr


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}


def test_long_backfill_and_index_builds_outlive_statement_timeout(baseline_db_url: str) -> None:
    # Backfilling and indexing 150,000 rows takes seconds; ordinary statements
    # keep the 300 ms ceiling, the long ones lift it.
    load_sample(baseline_db_url, 150_000)
    result = run_alembic(baseline_db_url, "-x", "statement_timeout=300ms", "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert scalar(baseline_db_url, VERSION_NUM) == (migrations.head_revision())


def test_alembic_check_finds_no_drift_at_head(head_db_url: str) -> None:
    result = run_alembic(head_db_url, "check")
    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout
