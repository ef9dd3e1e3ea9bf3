"""Crashes: a migration stopped at any point is finished by running the same command again.

Two kinds of stop. Between statements, deterministically: every revision's upgrade
and downgrade is stopped before its 1st, 2nd, ... statement (an exception raised in
place of the statement, which rolls back the open transaction as a killed client
does), then rerun. Inside statements, with SIGKILL sent to the alembic or
flavatix-db process while pg_stat_activity shows it running a chosen statement:
an index build, 001's backfill, the partition copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from alembic.operations import Operations
from alembic.script import ScriptDirectory

from flavatix_db import migrations
from tests.dbtools import catalog_snapshot, descriptors_checksum, execute, load_sample, query

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
SAMPLE_USERS = """
INSERT INTO auth.users (id)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid
FROM generate_series(0, 36) AS g
"""


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
    execute(url, SAMPLE_USERS)
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
