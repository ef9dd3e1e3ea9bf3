"""Rules every revision follows: frozen snapshots, and SQL that squawk finds safe."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from flavatix_db import migrations
from tests.dbtools import PROJECT_ROOT, run_alembic

VERSIONS = PROJECT_ROOT / "alembic" / "versions"
REVISIONS = sorted(
    (rev.revision, rev.down_revision)
    for rev in ScriptDirectory.from_config(migrations.alembic_config()).walk_revisions()
)
SQUAWK = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
# alembic's own version table (version_num VARCHAR(32)) is created by alembic,
# not by a revision, so it cannot carry an inline exception.
ALEMBIC_VERSION_TABLE_RULES = ["--exclude=prefer-text-field"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(VERSIONS.glob("*.py")), ids=lambda p: p.name)
def test_revision_does_not_import_the_package(path: Path) -> None:
    offending = {name for name in imported_modules(path) if name.split(".")[0] == "flavatix_db"}
    assert not offending, f"{path.name} imports {offending}: revisions are frozen snapshots"


def test_revision_files_sort_in_history_order() -> None:
    files = sorted(path.name for path in VERSIONS.glob("*.py"))
    assert [name.split("_")[0] for name in files] == [rev for rev, _ in REVISIONS]


def squawk(sql: str, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SQUAWK, "--reporter=gcc", "--pg-version=15", f"--stdin-filepath={name}", *extra],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("revision", "parent"), REVISIONS, ids=[r for r, _ in REVISIONS])
def test_squawk_finds_nothing_in_offline_sql(
    empty_db_url: str, revision: str, parent: str | None
) -> None:
    span = f"{parent}:{revision}" if parent else revision
    up = run_alembic(empty_db_url, "upgrade", span, "--sql")
    assert up.returncode == 0, up.stderr
    extra = ALEMBIC_VERSION_TABLE_RULES if parent is None else []
    lint = squawk(up.stdout, f"upgrade-{revision}.sql", *extra)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    down = run_alembic(empty_db_url, "downgrade", f"{revision}:{parent or 'base'}", "--sql")
    assert down.returncode == 0, down.stderr
    lint = squawk(down.stdout, f"downgrade-{revision}.sql")
    assert lint.returncode == 0, lint.stdout + lint.stderr
