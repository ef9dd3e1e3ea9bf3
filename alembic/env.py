"""Alembic environment for flavatix-db.

Every run, online or rendered with --sql, gets the same guard rails:
- a short lock_timeout, so a migration that cannot get a lock gives up quickly
  instead of queueing every application query behind it; a revision that hits
  it is retried a bounded number of times with backoff;
- a statement_timeout for ordinary statements (revisions lift it around index
  builds, validations and backfills);
- one session advisory lock, so two deploys migrating at once wait for each
  other. It is awaited by polling pg_try_advisory_lock outside any transaction:
  a waiter that sat inside an open transaction would deadlock with the holder's
  CREATE INDEX CONCURRENTLY, which waits for every open transaction;
- transaction_per_migration, so revisions with autocommit blocks commit
  revision by revision;
- the version table in schema flavatix_migrations, which no API role may use
  (flavatix_db.version_table); one that an earlier release left in public is
  moved there, under the lock, before Alembic reads it;
- migration_history beside it (flavatix_db.migration_history): a row per
  revision applied online, and one for a revision that failed.
"""

from __future__ import annotations

import logging
import re
import time
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from flavatix_db import database_url, migration_history, version_table
from flavatix_db.models import Base, include_object_for

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

APPLICATION_NAME = "flavatix-db migrations"
# Any constant works as long as every deploy uses the same one.
MIGRATION_LOCK_KEY = 7_146_220_931
# The key revision 005's switch-over steps take (flavatix_partitions.step).
PARTITION_STEP_KEY = 7_146_220_932
LOCK_NOT_AVAILABLE = "55P03"
RELATIVE_TARGET = re.compile(r"[+-]\d+$")


def setting(name: str, default: str) -> str:
    """`-x name=value`, else `flavatix.name` in alembic.ini, else the default."""
    x_args = context.get_x_argument(as_dictionary=True)
    if name in x_args:
        return str(x_args[name])
    return config.get_main_option(f"flavatix.{name}", default) or default


def interval(name: str, default: str) -> str:
    value = setting(name, default).strip()
    if not re.fullmatch(r"\d+(ms|s|min)?", value):
        raise CommandError(f"{name} must look like 3s, 500ms or 2min, not {value!r}")
    return value


def session_settings() -> dict[str, str]:
    return {
        "lock_timeout": interval("lock_timeout", "3s"),
        "statement_timeout": interval("statement_timeout", "60s"),
        # A killed deploy's backend would otherwise run its statement to the end
        # (an index build, a backfill: no timeout) holding the migration lock, and
        # the rerun would wait for it. The server polls the socket this often and
        # ends the statement once the client is gone.
        "client_connection_check_interval": interval("client_connection_check_interval", "2s"),
        "application_name": APPLICATION_NAME,
    }


def target_url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    try:
        url = database_url.resolve(explicit, start_embedded=not context.is_offline_mode())
    except (database_url.DatabaseUrlError, RuntimeError) as exc:
        raise CommandError(str(exc)) from None
    return url.render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    """Render SQL for a deploy pipeline; the script sets its own guard rails."""
    context.configure(
        url=target_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
        version_table_schema=version_table.SCHEMA,
    )
    for name, value in session_settings().items():
        context.execute(f"SET {name} = '{value}'")
    context.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
    for statement in version_table.PREPARE:
        context.execute(statement)
    for statement in migration_history.PREPARE:
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()
    context.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")


def acquire_migration_lock(connection: Connection) -> None:
    """Wait for the advisory lock without holding a transaction open while waiting."""
    wait_seconds = float(setting("migration_lock_wait", "900"))
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        ).scalar()
        connection.commit()
        if got:
            hold_partition_steps(connection)
            return
        if not announced:
            log.info("another migration is running; waiting for it to finish")
            announced = True
        if time.monotonic() > deadline:
            raise CommandError(
                f"another migration held the migration lock for over {wait_seconds:.0f}s; "
                "check pg_stat_activity for application_name = 'flavatix-db migrations'"
            )
        time.sleep(0.5)


def hold_partition_steps(connection: Connection) -> None:
    """Keep revision 005's switch-over steps out while this run reads or changes the schema.

    A step takes this key for its own transaction only (and gives up, to be
    retried, while a migration holds it), so the wait here is one step at most;
    005's own calls in this session take it again freely.
    """
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PARTITION_STEP_KEY})
    connection.commit()


def release_migration_lock(connection: Connection) -> None:
    if connection.in_transaction():
        connection.rollback()
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PARTITION_STEP_KEY})
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()


def prepare_version_table(connection: Connection) -> None:
    """Create the version table's schema, or move the table there from public."""
    legacy, ours = connection.execute(text(version_table.LOCATE)).one()
    for statement in version_table.PREPARE:
        connection.execute(text(statement))
    connection.commit()
    where = f"{version_table.SCHEMA}.{version_table.TABLE}"
    if legacy and ours:
        log.warning(
            "public.%s is not used: the migration state is in %s; "
            "drop public.%s once you have checked it",
            version_table.TABLE,
            where,
            version_table.TABLE,
        )
    elif legacy:
        log.info("moved public.%s, stamp included, to %s", version_table.TABLE, where)


def is_lock_timeout(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE


def run_with_lock_retry(connection: Connection) -> None:
    """Run the migrations; a revision that hit lock_timeout is retried from its start.

    Completed revisions are committed (transaction_per_migration), so a retry
    resumes at the revision that failed. Revisions are written to be re-runnable
    after a partial autocommit block.
    """
    retries = int(setting("lock_retries", "5"))
    # Revision 005 leaves flavor_descriptors plain or partitioned; the models
    # are compared with whichever it is.
    partitioned = bool(
        connection.execute(
            text(
                "SELECT relkind = 'p' FROM pg_class "
                "WHERE oid = to_regclass('public.flavor_descriptors')"
            )
        ).scalar()
    )
    connection.commit()
    destination = str(getattr(config.cmd_opts, "revision", "") or "")
    applied: list[str] = []
    history = migration_history.Recorder()
    for attempt in range(retries + 1):
        applied.clear()
        history.restart()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            transaction_per_migration=True,
            version_table_schema=version_table.SCHEMA,
            include_object=include_object_for(partitioned),
            compare_type=True,
            on_version_apply=[
                lambda ctx, step, heads, run_args, **kw: applied.append(step.up_revision_id or ""),
                history.on_version_apply,
            ],
        )
        try:
            prepare_version_table(connection)
            history.prepare(connection, context.script)
            with context.begin_transaction():
                context.run_migrations()
            return
        except Exception as exc:
            history.failed(connection, context.get_context(), exc)
            if not isinstance(exc, DBAPIError) or not is_lock_timeout(exc) or attempt == retries:
                raise
            if connection.in_transaction():
                connection.rollback()
            if applied and RELATIVE_TARGET.search(destination):
                # Retrying would count the relative step from the new position.
                raise CommandError(
                    f"lock_timeout after {len(applied)} revision(s) were applied; "
                    "run `alembic current` and repeat the command with an absolute revision"
                ) from exc
            pause = min(2**attempt, 30)
            log.warning(
                "a lock was not granted within lock_timeout (attempt %d of %d); retrying in %ds",
                attempt + 1,
                retries + 1,
                pause,
            )
            time.sleep(pause)


def migrate(connection: Connection) -> None:
    acquire_migration_lock(connection)
    try:
        run_with_lock_retry(connection)
    finally:
        release_migration_lock(connection)


def apply_session_settings(connection: Connection) -> None:
    for name, value in session_settings().items():
        connection.execute(
            text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value}
        )
    connection.commit()


def run_migrations_online() -> None:
    handed_in = config.attributes.get("connection")
    if isinstance(handed_in, Connection):
        apply_session_settings(handed_in)
        migrate(handed_in)
        return
    if isinstance(handed_in, Engine):
        with handed_in.connect() as connection:
            apply_session_settings(connection)
            migrate(connection)
        return
    url = target_url()
    options = " ".join(
        f"-c {name}={value}"
        for name, value in session_settings().items()
        if name != "application_name"
    )
    engine = create_engine(
        url,
        poolclass=NullPool,
        connect_args={"application_name": APPLICATION_NAME, "options": options},
    )
    try:
        try:
            connection = engine.connect()
        except OperationalError as exc:
            first = str(exc.orig).strip().splitlines()[0]
            where = engine.url.render_as_string(hide_password=True)
            raise CommandError(f"cannot connect to {where}: {first}") from None
        with connection:
            migrate(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
