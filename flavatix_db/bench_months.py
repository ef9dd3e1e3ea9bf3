"""How a query by user alone fares as monthly partitions accumulate.

A query that names a user but no time range cannot prune months: it opens
every partition and probes each one's index. This measures that cost on a
copy of the benchmark's partitioned database (``flavatix-db bench --partitioned``
leaves it), adding empty months before the oldest one until the table has each
asked-for number of monthly partitions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from flavatix_db import bench, seed_data

Cursor = psycopg2.extensions.cursor

# The app's questions about one user: a page, an existence check, a count.
QUERIES: dict[str, str] = {
    "first page": "SELECT * FROM public.get_descriptors_paginated(%s)",
    "descriptor_exists": "SELECT public.descriptor_exists(%s, 'cherry', 'aroma')",
    "count by user": "SELECT count(*) FROM public.flavor_descriptors WHERE user_id = %s",
}


@dataclass(frozen=True)
class MonthsRow:
    months: int
    query: str
    p50_ms: float
    p95_ms: float
    planning_ms: float


class MonthsProbeError(RuntimeError):
    pass


def _scalar(cur: Cursor, query: str, params: Sequence[object] = ()) -> object:
    cur.execute(query, params)
    row = cur.fetchone()
    return row[0] if row else None


def _monthly_partitions(cur: Cursor) -> int:
    return int(
        str(
            _scalar(
                cur,
                "SELECT count(*) FROM flavatix_partitions.months('public.flavor_descriptors') "
                "WHERE range_start IS NOT NULL",
            )
        )
    )


def _add_months_before_oldest(cur: Cursor, count: int) -> None:
    cur.execute(
        "SELECT public.create_descriptor_partition("
        "  extract(year FROM m)::int, extract(month FROM m)::int) "
        "FROM (SELECT (min(range_start) AT TIME ZONE 'UTC') - make_interval(months => g) AS m "
        "      FROM flavatix_partitions.months('public.flavor_descriptors'), "
        "           generate_series(1, %s) g WHERE range_start IS NOT NULL GROUP BY g) t",
        (count,),
    )


def _planning_ms(cur: Cursor, query: str, user: str) -> float:
    cur.execute("EXPLAIN (ANALYZE, SUMMARY, TIMING OFF, FORMAT JSON) " + query, (user,))
    row = cur.fetchone()
    return float(row[0][0]["Planning Time"]) if row else 0.0


def run(
    url: str,
    rows: int,
    months: Sequence[int],
    seed: int = 42,
    reps: int = 200,
    say: Callable[[str], None] = print,
) -> list[MonthsRow]:
    source = f"flavatix_bench_{rows}"
    probe = f"flavatix_months_{rows}"
    server = url.rsplit("/", 1)[0]
    admin = psycopg2.connect(f"{server}/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (source,))
            if cur.fetchone() is None:
                raise MonthsProbeError(
                    f"no database {source}: run `flavatix-db bench --rows {rows} --partitioned` "
                    "first"
                )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(probe)))
            cur.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(probe), sql.Identifier(source)
                )
            )
        results: list[MonthsRow] = []
        conn = psycopg2.connect(f"{server}/{probe}", application_name="flavatix-db bench-months")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                kind = _scalar(
                    cur,
                    "SELECT relkind FROM pg_class "
                    "WHERE oid = 'public.flavor_descriptors'::regclass",
                )
                if kind != "p":
                    raise MonthsProbeError(
                        f"{source} is not partitioned: run `flavatix-db bench --rows {rows} "
                        "--partitioned` first"
                    )
                user = str(seed_data.user_uuid(seed, seed_data.median_user_rank(rows)))
                for target in sorted(months):
                    have = _monthly_partitions(cur)
                    if target > have:
                        _add_months_before_oldest(cur, target - have)
                    have = _monthly_partitions(cur)
                    cur.execute("ANALYZE public.flavor_descriptors")
                    say(f"{have} monthly partitions")
                    for name, query in QUERIES.items():

                        def ask(c: Cursor, who: str, q: str = query) -> object:
                            c.execute(q, (who,))
                            return len(c.fetchall())

                        timing = bench.measure(cur, ask, [user], reps)
                        results.append(
                            MonthsRow(
                                have,
                                name,
                                timing.p50_ms,
                                timing.p95_ms,
                                _planning_ms(cur, query, user),
                            )
                        )
        finally:
            conn.close()
        return results
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(probe)))
        admin.close()


def format_table(rows: Sequence[MonthsRow]) -> str:
    lines = [
        "| monthly partitions | query (median user) | p50 | p95 | planning |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.months} | {r.query} | {r.p50_ms:.2f} ms | {r.p95_ms:.2f} ms "
            f"| {r.planning_ms:.2f} ms |"
        )
    return "\n".join(lines)
