"""Where one incremental refresh spends its time, statement by statement.

Refreshes a database at head, applies the benchmark's mixed changes (as
`flavatix-db bench --changes N` does), says how much of the table the changed
forms cover, then runs one incremental refresh with pg_stat_statements
tracking nested statements and prints the slowest, and finally a full rebuild
for the ratio. Not on a live database: it writes and deletes rows.

    .venv/bin/python scripts/refresh_profile.py URL [--changes 10000] [--rows 1000000]

The server must preload pg_stat_statements (the embedded cluster does); the
user must be a superuser (it sets pg_stat_statements.track).
"""

from __future__ import annotations

import argparse
import time

import psycopg2

from flavatix_db import bench, mixed_changes

COVERAGE = """
WITH forms AS (SELECT DISTINCT normalized_form AS f FROM public.mv_refresh_changes)
SELECT (SELECT count(*) FROM forms),
       (SELECT count(*) FROM public.flavor_descriptors
        WHERE normalized_form IN (SELECT f FROM forms)),
       (SELECT count(*) FROM public.flavor_descriptors)
"""

SLOWEST = """
SELECT round(total_exec_time::numeric), calls,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 100)
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%%pg_stat_statements%%'
ORDER BY total_exec_time DESC
LIMIT %s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="the dataset's --rows")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args()

    conn = psycopg2.connect(args.url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT public.refresh_descriptor_views()")
        changed = mixed_changes.apply(cur, args.changes, bench.changed_users(args.rows, args.seed))
        cur.execute(COVERAGE)
        forms, covered, total = cur.fetchone() or (0, 0, 0)
        print(f"{changed} rows changed; {forms} changed forms cover {covered} of {total} rows")

        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cur.execute("SET pg_stat_statements.track = 'all'")
        cur.execute("SELECT pg_stat_statements_reset()")
        started = time.perf_counter()
        cur.execute("SELECT public.refresh_descriptor_views()")
        incremental = time.perf_counter() - started
        cur.execute(SLOWEST, (args.top,))
        print("ms\tcalls\tstatement")
        for total_ms, calls, text in cur.fetchall():
            print(f"{total_ms}\t{calls}\t{text}")

        started = time.perf_counter()
        cur.execute("SELECT public.refresh_descriptor_views(true)")
        full = time.perf_counter() - started
    conn.close()
    print(f"incremental {incremental:.2f} s, full rebuild {full:.2f} s ({incremental / full:.1%})")


if __name__ == "__main__":
    main()
