"""Crashes: a migration stopped at any point is finished by running the same command again.

Two kinds of stop. Between statements, deterministically: every revision's upgrade
and downgrade is stopped before one of its statements (an exception raised in place
of the statement, which rolls back the open transaction as a killed client does),
then rerun; up to ten stopping points per step, spread from the first statement to
the last. Inside statements, with SIGKILL sent to the alembic or
flavatix-db process while pg_stat_activity shows it running a chosen statement:
an index build, 001's backfill, the partition copy.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from alembic.operations import Operations
from alembic.script import ScriptDirectory

from flavatix_db import migrations, partitioning
from tests.dbtools import (
    ALEMBIC,
    PROJECT_ROOT,
    SAMPLE_AUTH_USERS,
    catalog_snapshot,
    connect,
    descriptors_checksum,
    execute,
    load_sample,
    query,
    run_alembic,
    scalar,
)

FLAVATIX_DB = [sys.executable, "-m", "flavatix_db.cli"]

# Every revision, oldest first, so revisions added later are covered too.
ORDER = [
    "base",
    *reversed(
        [
            r.revision
            for r in ScriptDirectory.from_config(migrations.alembic_config()).walk_revisions()
        ]
    ),
]
# (revision, the one before it). 000's downgrade refuses while descriptors exist,
# so it is stopped and rerun on an empty table.
STEPS = list(zip(ORDER[1:], ORDER, strict=False))


class Stopped(Exception):
    """Stands for the process dying before the statement it replaces."""


@contextmanager
def stop_before_statement(n: int) -> Iterator[list[int]]:
    """Let ``n`` op.execute calls through, then raise Stopped; yields the call count."""
    real = Operations.execute
    calls = [0]

    def execute(self: Operations, *args: Any, **kwargs: Any) -> Any:
        if calls[0] == n:
            raise Stopped(f"stopped before statement {n + 1}")
        calls[0] += 1
        return real(self, *args, **kwargs)

    with mock.patch.object(Operations, "execute", execute):
        yield calls


def invalid_indexes(url: str) -> list[Any]:
    return query(url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid")


def populated_at(url: str, revision: str) -> None:
    """``url`` at ``revision`` with sample rows (none at 000, whose downgrade refuses them)."""
    execute(url, SAMPLE_AUTH_USERS)
    migrations.upgrade(url, "000")
    if revision != "000":
        load_sample(url, 600)
        migrations.upgrade(url, revision)


def at(url: str) -> str:
    return migrations.current_revision(url) or "base"


def move(url: str, target: str) -> None:
    if ORDER.index(target) < ORDER.index(at(url)):
        migrations.downgrade(url, target)
    else:
        migrations.upgrade(url, target)


def rows_of(url: str) -> tuple[int, str] | None:
    """Count and checksum of the descriptors; None where the table does not exist."""
    if query(url, "SELECT to_regclass('public.flavor_descriptors')")[0][0] is None:
        return None
    return descriptors_checksum(url)


def stop_at_statements(url: str, start: str, target: str, most: int = 10) -> int:
    """From ``start``, go to ``target`` stopped before statement k; rerun; for up to ``most`` k.

    The k are spread evenly over the step's statements, first and last included.
    After every rerun the database equals one that went straight to ``target``.
    Returns how many statements the step has.
    """
    move(url, start)
    with stop_before_statement(10**6) as calls:
        move(url, target)
    total = calls[0]
    wanted = catalog_snapshot(url)
    rows = rows_of(url)
    move(url, start)
    points = sorted({round(i * (total - 1) / max(most - 1, 1)) for i in range(most)})
    for n in points:
        where = f"{start} -> {target} stopped before statement {n + 1} of {total}"
        with stop_before_statement(n), pytest.raises(Stopped):
            move(url, target)
        assert at(url) == start, where
        move(url, target)
        assert at(url) == target, where
        assert invalid_indexes(url) == [], where
        assert rows_of(url) == rows, where
        assert catalog_snapshot(url) == wanted, where
        move(url, start)
    return total


@pytest.mark.parametrize(("revision", "before"), STEPS, ids=[r for r, _ in STEPS])
def test_downgrade_stopped_anywhere_is_finished_by_a_rerun(
    supabase_empty_db_url: str, revision: str, before: str
) -> None:
    url = supabase_empty_db_url
    populated_at(url, revision)
    assert stop_at_statements(url, revision, before) >= 1


@pytest.mark.parametrize(("revision", "before"), STEPS, ids=[r for r, _ in STEPS])
def test_upgrade_stopped_anywhere_is_finished_by_a_rerun(
    supabase_empty_db_url: str, revision: str, before: str
) -> None:
    url = supabase_empty_db_url
    populated_at(url, revision)
    assert stop_at_statements(url, before, revision) >= 1


# --- SIGKILL inside a statement -------------------------------------------------------

MIGRATION_BACKEND = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = 'flavatix-db migrations'"
)
ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
)


def spawn(url: str, *command: str) -> subprocess.Popen[bytes]:
    """``alembic ...`` or ``flavatix-db ...`` as a deploy runs it, against ``url``."""
    program = ALEMBIC if command[0] == "alembic" else FLAVATIX_DB
    return subprocess.Popen(
        [*program, *command[1:]],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(url: str, sql: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not scalar(url, sql):
        if time.monotonic() > deadline:
            activity = query(
                url,
                "SELECT application_name, state, wait_event_type, wait_event, left(query, 80) "
                "FROM pg_stat_activity WHERE datname = current_database()",
            )
            raise AssertionError(f"not seen within {seconds}s: {sql}; activity: {activity}")
        time.sleep(0.05)


def running(statement_like: str, waiting_on_lock: bool = False) -> str:
    """A query true while the migration's backend runs a statement LIKE the pattern."""
    wait = " AND wait_event_type = 'Lock'" if waiting_on_lock else ""
    return f"{MIGRATION_BACKEND} AND query LIKE '{statement_like}'{wait}"


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def alembic_ok(url: str, *args: str) -> None:
    result = run_alembic(url, *args)
    assert result.returncode == 0, result.stderr[-2000:]


def test_killed_in_the_backfill_frees_the_lock_and_the_rerun_completes(
    baseline_db_url: str,
) -> None:
    url = baseline_db_url
    load_sample(url, 600)
    before = descriptors_checksum(url)
    # Two application transactions steer the migration into its backfill and hold
    # it there: the first keeps 001's ALTER TABLE waiting while the second queues
    # a row lock behind it; once the first ends, the second holds one row that
    # the backfill must update. lock_timeout is long enough to outlast the test.
    with (
        connect(url, autocommit=False) as first,
        connect(url, autocommit=False) as second,
        first.cursor() as cur,
    ):
        cur.execute("LOCK TABLE public.flavor_descriptors IN ACCESS SHARE MODE")
        proc = spawn(url, "alembic", "-x", "lock_timeout=60s", "upgrade", "head")
        wait_until(url, running("%ADD COLUMN IF NOT EXISTS normalized_form%", True))
        holder = threading.Thread(
            target=second.cursor().execute,
            args=("SELECT id FROM public.flavor_descriptors ORDER BY id LIMIT 1 FOR UPDATE",),
        )
        holder.start()
        wait_until(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT id FROM%FOR UPDATE' "
            "AND wait_event_type = 'Lock'",
        )
        first.rollback()
        holder.join()
        wait_until(url, running("CALL public.flavatix_001_backfill%", True))
        kill(proc)
        # The dead client's backend ends within client_connection_check_interval,
        # releasing the migration lock, although the row is still held.
        wait_until(url, f"SELECT ({MIGRATION_BACKEND}) = 0 AND ({ADVISORY_LOCKS}) = 0", 15)
        second.rollback()
    assert migrations.current_revision(url) == "000"
    alembic_ok(url, "upgrade", "head")
    assert migrations.current_revision(url) == migrations.head_revision()
    assert invalid_indexes(url) == []
    assert descriptors_checksum(url) == before
    assert scalar(url, "SELECT count(*) FROM flavor_descriptors WHERE normalized_form IS NULL") == 0


# CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name
INDEX_BUILT = re.compile(r"CREATE (?:UNIQUE )?INDEX CONCURRENTLY (?:IF NOT EXISTS )?(\w+)")


@pytest.mark.parametrize(("start", "target"), [("000", "001"), ("001", "002"), ("003", "004")])
def test_killed_inside_an_index_build_leaves_nothing_invalid_after_the_rerun(
    baseline_db_url: str, start: str, target: str
) -> None:
    url = baseline_db_url
    load_sample(url, 600)
    migrations.upgrade(url, start)
    before = descriptors_checksum(url)
    # An application transaction holding a snapshot makes CREATE INDEX
    # CONCURRENTLY wait for it before marking the new index valid: the index is
    # in the catalog, invalid. It locks no table, so the steps before the build
    # go through.
    with connect(url, autocommit=False) as app, app.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT 1")
        proc = spawn(url, "alembic", "-x", "lock_timeout=60s", "upgrade", target)
        building = running("CREATE%INDEX CONCURRENTLY%", waiting_on_lock=True)
        wait_until(url, building)
        statement = scalar(url, building.replace("SELECT count(*)", "SELECT min(query)", 1))
        kill(proc)
        wait_until(url, f"SELECT ({MIGRATION_BACKEND}) = 0", 15)
        assert invalid_indexes(url) != []
        app.rollback()
    # The build that was killed is the target revision's own.
    name = INDEX_BUILT.match(statement)
    assert name is not None, statement
    script = ScriptDirectory.from_config(migrations.alembic_config()).get_revision(target)
    assert script is not None and script.path is not None
    assert f"{name[1]}" in Path(script.path).read_text(), statement
    assert migrations.current_revision(url) == start
    alembic_ok(url, "upgrade", target)
    assert migrations.current_revision(url) == target
    assert invalid_indexes(url) == []
    assert descriptors_checksum(url) == before


@pytest.mark.parametrize("after_seconds", [0.5, 2.0])
def test_downgrade_to_000_killed_part_way_is_finished_by_a_rerun(
    head_plain_db_url: str, after_seconds: float
) -> None:
    """The issue's case: from head, switched, populated; killed, rerun."""
    url = head_plain_db_url
    load_sample(url, 600)
    assert partitioning.migrate(url, 200).done
    before = descriptors_checksum(url)
    proc = spawn(url, "alembic", "downgrade", "000")
    time.sleep(after_seconds)
    kill(proc)
    wait_until(url, f"SELECT ({MIGRATION_BACKEND}) = 0", 15)
    alembic_ok(url, "downgrade", "000")
    assert migrations.current_revision(url) == "000"
    assert invalid_indexes(url) == []
    assert descriptors_checksum(url) == before


@pytest.mark.parametrize("phase", ["copying", "views", "switch"])
def test_partition_migrate_killed_in_each_phase_is_finished_by_a_rerun(
    head_plain_db_url: str, phase: str
) -> None:
    url = head_plain_db_url
    load_sample(url, 1_500)
    before = descriptors_checksum(url)
    proc = spawn(url, "flavatix-db", "partition", "migrate", "--batch-size", "50")
    wait_until(
        url,
        f"SELECT phase = '{phase}' OR phase = 'idle' AND rows_copied > 0 "
        "FROM flavatix_partitions.migration_state",
    )
    kill(proc)
    assert partitioning.migrate(url, 500).done
    assert partitioning.status(url)["live"] == "partitioned"
    assert invalid_indexes(url) == []
    assert descriptors_checksum(url) == before
