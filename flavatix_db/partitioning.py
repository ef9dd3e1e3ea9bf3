"""Drive revision 005's switch-over to the partitioned table, and report where it stands.

Each step is one call of ``migrate_to_partitioned_table(n, false)`` in its own
transaction, so a killed run resumes where it stopped and nothing it did is
lost; the database decides what the next step is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

LOCK_NOT_AVAILABLE = "55P03"
UNDEFINED_FUNCTION = "42883"


class PartitioningError(RuntimeError):
    """A switch-over step that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Step:
    step: str
    detail: str
    rows_copied: int
    rows_total: int
    done: bool


def _connect(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, application_name="flavatix-db partition")
    conn.autocommit = True
    return conn


def _explain(exc: psycopg2.Error) -> PartitioningError:
    message = (exc.diag.message_primary or str(exc)).strip()
    if exc.pgcode == UNDEFINED_FUNCTION:
        message = "revision 005 is not applied here: run `alembic upgrade 005` first"
    elif exc.diag.message_hint:
        message = f"{message} ({exc.diag.message_hint})"
    return PartitioningError(message)


def _step(cur: psycopg2.extensions.cursor, batch_size: int, dry_run: bool) -> Step:
    cur.execute(
        "SELECT step, detail, rows_copied, rows_total, done "
        "FROM public.migrate_to_partitioned_table(%s, %s)",
        (batch_size, dry_run),
    )
    row = cur.fetchone()
    if row is None:
        raise PartitioningError("migrate_to_partitioned_table returned no step")
    return Step(str(row[0]), str(row[1]), int(row[2]), int(row[3]), bool(row[4]))


# A copy batch holds its rows FOR SHARE until it commits: a writer of one of
# them waits that long. The step ends a batch itself after a quarter of a
# second; the driver also shrinks batches whose steps take longer than this
# (a slow commit), and grows quick ones.
BATCH_SECONDS = 0.4
SMALLEST_BATCH = 200


def _next_batch(batch: int, largest: int, seconds: float) -> int:
    """Halve a batch that held its rows too long; grow one that was quick, up to ``largest``."""
    if seconds > BATCH_SECONDS:
        return max(SMALLEST_BATCH, batch // 2)
    if seconds < BATCH_SECONDS / 3:
        return min(largest, batch * 2)
    return batch


def migrate(
    url: str,
    batch_size: int = 10_000,
    *,
    dry_run: bool = False,
    on_step: Callable[[Step], None] | None = None,
    busy_retries: int = 5,
) -> Step:
    """Run steps until the partitioned table is live (or, dry, say what comes next).

    ``batch_size`` is the largest copy batch; a step copies fewer rows when
    its time is up, so that each one holds its rows for well under a second,
    whatever the machine's load.
    """
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            # Copy batches and view builds are long by nature; they block nobody.
            cur.execute("SET statement_timeout = 0")
            busy = 0
            batch = batch_size
            while True:
                started = time.monotonic()
                try:
                    step = _step(cur, batch, dry_run)
                except psycopg2.Error as exc:
                    if exc.pgcode == LOCK_NOT_AVAILABLE and busy < busy_retries:
                        busy += 1
                        time.sleep(2**busy)
                        continue
                    raise _explain(exc) from None
                busy = 0
                if step.step == "copy":
                    batch = _next_batch(batch, batch_size, time.monotonic() - started)
                if on_step is not None:
                    on_step(step)
                if step.step == "differ":
                    # The step reset the copy; running on would rebuild it, but
                    # a copy that differs is a fault someone should look at.
                    raise PartitioningError(
                        f"{step.detail} (run `flavatix-db partition migrate` again to rebuild it)"
                    )
                if dry_run or step.done:
                    return step
    finally:
        conn.close()


def _one(cur: psycopg2.extensions.cursor, query: str, params: tuple[Any, ...] = ()) -> Any:
    cur.execute(query, params)
    row = cur.fetchone()
    return row[0] if row else None


def fetch_dicts(
    cur: psycopg2.extensions.cursor, query: str | sql.Composable, params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict by column name."""
    cur.execute(query, params)
    names = [column.name for column in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def status(url: str) -> dict[str, Any]:
    """Where the table stands: live kind, a migration's phase, partitions, the default one."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            if _one(cur, "SELECT to_regnamespace('flavatix_partitions') IS NULL"):
                return {"revision_005": False, "live": "unpartitioned"}
            (state,) = fetch_dicts(
                cur,
                "SELECT target, phase, rows_copied, rows_total, started_at, switched_at, "
                "last_check FROM flavatix_partitions.migration_state",
            )
            live = _one(cur, "SELECT flavatix_partitions.live_kind()")
            other = "unpartitioned" if live == "partitioned" else "partitioned"
            kept = _one(cur, "SELECT flavatix_partitions.table_of_kind(%s)::text", (other,))
            parent = _one(cur, "SELECT flavatix_partitions.table_of_kind('partitioned')::text")
            result: dict[str, Any] = {
                "revision_005": True,
                "live": live,
                "migration": None
                if state.get("phase") == "idle"
                else {
                    "target": state["target"],
                    "phase": state["phase"],
                    "rows_copied": state["rows_copied"],
                    "rows_total": state["rows_total"],
                    "started_at": _iso(state["started_at"]),
                },
                "switched_at": _iso(state.get("switched_at")),
                "kept_in_step": kept if kept and kept != "flavor_descriptors" else None,
                "last_check": state.get("last_check"),
            }
            if parent:
                months = fetch_dicts(
                    cur,
                    "SELECT m.partition_name, m.range_start, m.range_end, "
                    "       c.reltuples::bigint AS estimated_rows "
                    "FROM flavatix_partitions.months(%s::regclass) m "
                    "JOIN pg_class c ON c.relname = m.partition_name "
                    " AND c.relnamespace = 'flavatix_partitions'::regnamespace "
                    "ORDER BY m.range_start NULLS FIRST",
                    (parent,),
                )
                this_month = _one(
                    cur,
                    "SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
                )
                default = next((m for m in months if m["range_start"] is None), None)
                in_default = 0
                if default:
                    count = sql.SQL("SELECT count(*) FROM {}").format(
                        sql.Identifier("flavatix_partitions", default["partition_name"])
                    )
                    cur.execute(count)
                    in_default = (cur.fetchone() or (0,))[0]
                result["partitions"] = {
                    "table": parent,
                    "monthly": sum(1 for m in months if m["range_start"] is not None),
                    "oldest_month": _iso(
                        min((m["range_start"] for m in months if m["range_start"]), default=None)
                    ),
                    "months_ahead": sum(
                        1 for m in months if m["range_start"] and m["range_start"] > this_month
                    ),
                    "rows_in_default": in_default,
                }
            return result
    except psycopg2.Error as exc:
        raise _explain(exc) from None
    finally:
        conn.close()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def detach(url: str, name: str) -> str:
    """Detach one monthly partition, concurrently where PostgreSQL allows it."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            parent = _one(cur, "SELECT flavatix_partitions.table_of_kind('partitioned')::text")
            if parent is None:
                raise PartitioningError("there is no partitioned flavor_descriptors table")
            has_default = _one(
                cur,
                "SELECT count(*) > 0 FROM flavatix_partitions.months(%s::regclass) "
                "WHERE range_start IS NULL",
                (parent,),
            )
            if has_default:
                # DETACH CONCURRENTLY is refused beside a default partition:
                # the function detaches under a short, retried lock instead.
                return str(_one(cur, "SELECT public.detach_partition(%s)", (name,)))
            known = _one(
                cur,
                "SELECT count(*) > 0 FROM flavatix_partitions.months(%s::regclass) "
                "WHERE partition_name = %s",
                (parent, name),
            )
            if not known:
                # The function gives the precise error for any other name.
                return str(_one(cur, "SELECT public.detach_partition(%s)", (name,)))
            cur.execute(
                sql.SQL("ALTER TABLE {} DETACH PARTITION {} CONCURRENTLY").format(
                    sql.SQL(parent),
                    sql.Identifier("flavatix_partitions", name),
                )
            )
            return f"flavatix_partitions.{name}"
    except psycopg2.Error as exc:
        raise _explain(exc) from None
    finally:
        conn.close()


def cleanup(url: str) -> str:
    """Drop the previous table, kept in step since the switch."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            return str(_one(cur, "SELECT flavatix_partitions.cleanup()"))
    except psycopg2.Error as exc:
        raise _explain(exc) from None
    finally:
        conn.close()
