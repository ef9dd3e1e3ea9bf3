"""migration_history: one row per upgrade, downgrade or stamp of one revision.

It belongs to the migration machinery, like the version table beside it in
schema flavatix_migrations: alembic/env.py creates it on every run (PREPARE),
so it survives the downgrade of any revision, 007 included. Rows come from
three writers:
- Alembic, online: a row per revision as it is applied, in that revision's own
  transaction (env.py's on_version_apply), and a row for a revision that failed,
  written after its transaction was rolled back, from a separate connection;
- revision 007's rollback functions, in the caller's transaction: a call
  refused before anything runs raises and leaves no row; a call whose step
  fails undoes all its steps, writes the failing revision's row (outcome
  'failed', the error) and returns normally, saying so, so that the row stays;
- a backfill, once, when the table is first created on a database that already
  has a stamp: the revisions up to that stamp, with outcome 'assumed'.
SQL rendered with --sql records nothing: the script a pipeline runs is exactly
the revisions' statements.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from flavatix_db.version_table import SCHEMA
from flavatix_db.version_table import TABLE as VERSION_TABLE

log = logging.getLogger(__name__)

TABLE = "migration_history"

# Re-runnable; REVOKEs repeat on every run for the same reason as the version table's.
PREPARE: tuple[str, ...] = (
    # Checked first: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even
    # when the table is there, which a migrating role may lack.
    f"""DO $$
BEGIN
    IF to_regclass('{SCHEMA}.{TABLE}') IS NULL THEN
        CREATE TABLE {SCHEMA}.{TABLE} (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            revision text NOT NULL,
            direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade', 'stamp')),
            via text NOT NULL,
            db_user text NOT NULL DEFAULT session_user,
            started_at timestamptz,
            finished_at timestamptz,
            outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'assumed')),
            error text
        );
    END IF;
END;
$$""",
    f"""DO $$
DECLARE
    r text;
BEGIN
    REVOKE ALL ON {SCHEMA}.{TABLE} FROM PUBLIC;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON {SCHEMA}.{TABLE} FROM %I', r);
        END IF;
    END LOOP;
END;
$$""",
)

INSERT = text(
    f"INSERT INTO {SCHEMA}.{TABLE} "
    "(revision, direction, via, started_at, finished_at, outcome, error) "
    "VALUES (:revision, :direction, :via, :started_at, clock_timestamp(), :outcome, :error)"
)
HAS_VERSION_TABLE = text(f"SELECT to_regclass('{SCHEMA}.{VERSION_TABLE}') IS NOT NULL")
STAMP = text(f"SELECT max(version_num) FROM {SCHEMA}.{VERSION_TABLE}")
IS_EMPTY = text(f"SELECT NOT EXISTS (SELECT FROM {SCHEMA}.{TABLE})")
BACKFILL = text(
    f"INSERT INTO {SCHEMA}.{TABLE} (revision, direction, via, outcome) "
    "VALUES (:revision, 'upgrade', 'before migration_history existed', 'assumed')"
)


def record(
    connection: Connection,
    *,
    revision: str,
    direction: str,
    via: str,
    started_at: datetime.datetime | None,
    outcome: str,
    error: str | None = None,
) -> None:
    connection.execute(
        INSERT,
        {
            "revision": revision,
            "direction": direction,
            "via": via,
            "started_at": started_at,
            "outcome": outcome,
            "error": error,
        },
    )


def backfill(connection: Connection, applied_oldest_first: Iterable[str]) -> None:
    """Rows for revisions applied before the table existed; only into an empty table."""
    if not connection.execute(IS_EMPTY).scalar():
        return
    for revision in applied_oldest_first:
        connection.execute(BACKFILL, {"revision": revision})


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _row_of(step: Any) -> tuple[str, str]:
    """(revision, direction) of an Alembic MigrationInfo."""
    if step.is_stamp:
        return ",".join(step.destination_revision_ids) or "base", "stamp"
    return str(step.up_revision_id), "upgrade" if step.is_upgrade else "downgrade"


class Recorder:
    """The rows of one online Alembic run: env.py hands it the applied and failed steps."""

    def __init__(self, via: str = "alembic") -> None:
        self.via = via
        self.step_started = _now()

    def restart(self) -> None:
        self.step_started = _now()

    def prepare(self, connection: Connection, script: ScriptDirectory) -> None:
        """Create the table; backfill it if it is new and the database already has a stamp."""
        for statement in PREPARE:
            connection.execute(text(statement))
        has_stamp = connection.execute(HAS_VERSION_TABLE).scalar()
        stamp = connection.execute(STAMP).scalar() if has_stamp else None
        if stamp:
            applied = [rev.revision for rev in script.walk_revisions("base", stamp)]
            backfill(connection, reversed(applied))
        connection.commit()

    def on_version_apply(self, ctx: MigrationContext, step: Any, **_: Any) -> None:
        """Inside the revision's own transaction: the row commits with the revision."""
        revision, direction = _row_of(step)
        assert ctx.connection is not None
        record(
            ctx.connection,
            revision=revision,
            direction=direction,
            via=self.via,
            started_at=self.step_started,
            outcome="succeeded",
        )
        self.restart()

    def failed(
        self, connection: Connection, migration_context: MigrationContext, error: BaseException
    ) -> None:
        """The revision that was running when ``error`` struck, written after its rollback.

        Completed revisions are committed, so the failed one is the first step of
        the plan from the heads the database now has. The row is written from a
        separate connection: the failed one may be unusable. Never raises: the
        original error is what the operator needs to see.
        """
        try:
            if connection.in_transaction():
                connection.rollback()
            heads = migration_context.get_current_heads()
            connection.rollback()
            plan = migration_context.opts.get("fn")
            steps = list(plan(heads, migration_context)) if plan else []
            if not steps:
                return
            revision, direction = _row_of(steps[0].info)
            with connection.engine.connect() as side:
                record(
                    side,
                    revision=revision,
                    direction=direction,
                    via=self.via,
                    started_at=self.step_started,
                    outcome="failed",
                    error=str(error).strip()[:2000],
                )
                side.commit()
        except Exception as exc:
            log.warning("could not record the failed revision in %s: %s", TABLE, exc)
