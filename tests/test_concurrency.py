"""Deploys at the same moment: each revision is applied once and every process succeeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from itertools import pairwise

import pytest
from alembic.script import ScriptDirectory

from flavatix_db import migrations, partitioning
from tests.dbtools import ALEMBIC, PROJECT_ROOT, descriptors_checksum, load_sample, query

FLAVATIX_DB = [sys.executable, "-m", "flavatix_db.cli"]
# Alembic logs one line per revision it runs: "Running upgrade 001 -> 002, ...".
RAN = re.compile(r"Running (upgrade|downgrade) (\S*) -> (\S+?),")


def start_together(url: str, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once (no waiting between the starts); wait for all."""
    env = {**os.environ, "DATABASE_URL": url}
    procs = [
        subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    done = []
    for command, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return done


def steps_run(results: list[subprocess.CompletedProcess[str]]) -> Counter[tuple[str, str, str]]:
    return Counter(m.groups() for r in results for m in RAN.finditer(r.stderr))


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    return list(reversed([r.revision for r in script.walk_revisions()]))


@pytest.mark.parametrize("processes", [2, 4])
def test_simultaneous_upgrades_apply_each_revision_once(empty_db_url: str, processes: int) -> None:
    url = empty_db_url
    results = start_together(url, [[*ALEMBIC, "upgrade", "head"]] * processes)
    assert [r.returncode for r in results] == [0] * processes, [r.stderr[-800:] for r in results]
    chain = revisions()
    wanted = Counter(("upgrade", a, b) for a, b in pairwise(["", *chain]))
    assert steps_run(results) == wanted
    assert migrations.current_revision(url) == chain[-1]
    # The others waited for the lock, then found nothing left to do.
    assert sum("another migration is running" in r.stderr for r in results) >= 1


@pytest.mark.parametrize("processes", [2, 4])
def test_simultaneous_downgrades_apply_each_revision_once(
    head_plain_db_url: str, processes: int
) -> None:
    url = head_plain_db_url
    load_sample(url, 600)
    before = descriptors_checksum(url)
    results = start_together(url, [[*ALEMBIC, "downgrade", "000"]] * processes)
    assert [r.returncode for r in results] == [0] * processes, [r.stderr[-800:] for r in results]
    chain = revisions()
    wanted = Counter(("downgrade", b, a) for a, b in pairwise(chain))
    assert steps_run(results) == wanted
    assert migrations.current_revision(url) == "000"
    assert descriptors_checksum(url) == before


INVALID_INDEXES = "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"


@pytest.mark.parametrize(
    "beside",
    [[[*ALEMBIC, "upgrade", "head"], [*ALEMBIC, "check"]], [[*FLAVATIX_DB, "maintain", "--once"]]],
    ids=["deploy", "maintain"],
)
def test_partition_migrate_beside_others(head_plain_db_url: str, beside: list[list[str]]) -> None:
    url = head_plain_db_url
    load_sample(url, 1_500)
    before = descriptors_checksum(url)
    migrate = [*FLAVATIX_DB, "partition", "migrate", "--batch-size", "100"]
    results = start_together(url, [migrate, *beside])
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr[-800:] for r in results]
    assert partitioning.status(url)["live"] == "partitioned"
    assert descriptors_checksum(url) == before
    assert query(url, INVALID_INDEXES) == []


@pytest.mark.parametrize("start", ["004", "005"])
def test_maintain_beside_a_deploy(baseline_db_url: str, start: str) -> None:
    url = baseline_db_url
    load_sample(url, 1_500)
    migrations.upgrade(url, start)  # 005 leaves the populated table plain
    before = descriptors_checksum(url)
    results = start_together(
        url, [[*FLAVATIX_DB, "maintain", "--once"], [*ALEMBIC, "upgrade", "head"]]
    )
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-800:] for r in results]
    assert migrations.current_revision(url) == migrations.head_revision()
    assert descriptors_checksum(url) == before
    assert query(url, INVALID_INDEXES) == []
