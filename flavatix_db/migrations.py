"""Run this project's Alembic migrations in-process."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from flavatix_db import database_url, version_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(url: str | None = None, *, quiet: bool = True) -> Config:
    """The project's alembic.ini, aimed at ``url`` (else the usual resolution)."""
    if not ALEMBIC_INI.is_file():
        raise FileNotFoundError(
            f"{ALEMBIC_INI} not found: flavatix-db runs from a checkout (pip install -e .)"
        )
    config = Config(str(ALEMBIC_INI))
    if url:
        config.attributes["url"] = url
    if quiet:
        # Keep the caller's logging setup; alembic.ini would reset it.
        config.attributes["configure_logger"] = False
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no revisions found")
    return head


def upgrade(url: str, target: str = "head") -> None:
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str) -> None:
    command.downgrade(alembic_config(url), target)


def current_revision(url: str) -> str | None:
    """The revision ``url`` is at, read without changing anything.

    Until its next Alembic run moves it, a database migrated by an earlier
    release keeps its version table in public.
    """
    engine = create_engine(database_url.to_sqlalchemy(url, source="url"), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            for schema in (version_table.SCHEMA, version_table.LEGACY_SCHEMA):
                if inspect(connection).has_table(version_table.TABLE, schema=schema):
                    opts = {"version_table_schema": schema}
                    return MigrationContext.configure(connection, opts=opts).get_current_revision()
            return None
    finally:
        engine.dispose()


def applied_revisions(url: str) -> set[str]:
    """The revision ``url`` is at and every one beneath it; empty before the first."""
    current = current_revision(url)
    if current is None:
        return set()
    script = ScriptDirectory.from_config(alembic_config())
    return {r.revision for r in script.iterate_revisions(current, "base") if r is not None}
