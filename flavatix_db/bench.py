"""The benchmark behind the README's performance table.

It loads realistic data at revision 000, times six kinds of question the way an
application answers them on the baseline schema ("before"), upgrades to head
while a concurrent writer keeps inserting, refreshes the views, times the same
questions through the optimized functions ("after"), checks both give the same
answers, and times a primary-key lookup as the floor.

"Before" queries ask exactly what the functions answer, in plain SQL over the
raw rows, with only pg_trgm and unaccent added to the baseline (a naive fuzzy
query needs them). The data lives in a scratch database, ``flavatix_bench_<rows>``,
cloned from a cached template per (rows, seed), so a second run skips loading;
the "before" figures are cached too, since they depend only on the server and
the data.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from flavatix_db import (
    cluster,
    insert_cost,
    migrations,
    mixed_changes,
    partitioning,
    seed_data,
    traffic,
)

Cursor = psycopg2.extensions.cursor
Answer = Any

PAGE_SIZE = 50
DEEP_PAGE = 20
# Names the shape of the "before" answers, so a cache of older answers is not reused.
BEFORE_VERSION = "whole-answers"
# Changed rows are spread over this many users (fewer on a small dataset).
CHANGED_USERS = 2000
# A naive "before" query may scan everything; past this it counts as this long.
BEFORE_TIMEOUT_MS = 60_000

# normalize_descriptor_text() as an expression: the baseline has no such function.
NORM = "btrim(regexp_replace(lower(unaccent(descriptor_text)), '[[:space:]]+', ' ', 'g'))"


@dataclass(frozen=True)
class KindResult:
    kind: str
    before_p50_ms: float
    before_p95_ms: float
    after_p50_ms: float
    after_p95_ms: float
    speedup_p50: float
    same_answers: bool


@dataclass(frozen=True)
class RefreshResult:
    full_seconds: float
    incremental_seconds: float
    changed_rows: int
    same_as_full: bool


@dataclass(frozen=True)
class BenchResult:
    rows: int
    floor_p50_ms: float
    migration: dict[str, float]
    queries: list[KindResult]
    refresh: RefreshResult | None = None
    insert_tracking: insert_cost.InsertCost | None = None

    def to_json(self) -> dict[str, Any]:
        found = {
            "rows": self.rows,
            "floor_p50_ms": self.floor_p50_ms,
            "migration": self.migration,
            "queries": [asdict(q) for q in self.queries],
        }
        if self.refresh is not None:
            found["refresh"] = asdict(self.refresh)
        if self.insert_tracking is not None:
            found["insert_tracking"] = asdict(self.insert_tracking)
        return found


@dataclass(frozen=True)
class Kind:
    """One kind of question: its parameters, its naive and optimized answers."""

    name: str
    params: Sequence[Any]
    before: Callable[[Cursor, Any], Answer]
    after: Callable[[Cursor, Any], Answer]


# --- the six kinds --------------------------------------------------------------


def _rows(cur: Cursor, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cur.execute(query, params)
    return list(cur.fetchall())


# The whole wheel generate_wheel_data_optimized(user, 'combined') returns, in
# plain SQL over the raw rows: per (type, category, subcategory, form) group
# the most common spelling, per wheel descriptor the spelling of its largest
# group, the top 10 descriptors of each subcategory, and category shares in
# tenths of a percent by largest remainder, summing to 100.0.
WHEEL_BEFORE = f"""
WITH grouped AS (
    SELECT category, subcategory, {NORM} AS form,
           mode() WITHIN GROUP (ORDER BY descriptor_text) AS text,
           count(*) AS n, sum(intensity) AS isum, count(intensity) AS icount
    FROM public.flavor_descriptors
    WHERE user_id = %s AND descriptor_type IN ('aroma', 'flavor')
    GROUP BY descriptor_type, category, subcategory, 3
), descriptors AS (
    SELECT coalesce(category, 'Uncategorized') AS cat, coalesce(subcategory, 'General') AS sub,
           form, (array_agg(text ORDER BY n DESC, text))[1] AS label,
           sum(n) AS n, sum(isum) AS isum, sum(icount) AS icount
    FROM grouped
    GROUP BY 1, 2, 3
), ranked AS (
    SELECT d.*, row_number() OVER (PARTITION BY cat, sub ORDER BY n DESC, label) AS rn
    FROM descriptors d
), subs AS (
    SELECT cat, sub, sum(n) AS n,
           jsonb_agg(jsonb_build_object(
                         'text', label, 'count', n,
                         'avgIntensity', CASE WHEN icount > 0 THEN round(isum / icount, 2) END)
                     ORDER BY n DESC, label) FILTER (WHERE rn <= 10) AS descriptors
    FROM ranked
    GROUP BY cat, sub
), cats AS (
    SELECT cat, sum(n) AS n,
           jsonb_agg(jsonb_build_object('name', sub, 'count', n, 'descriptors', descriptors)
                     ORDER BY n DESC, sub) AS subcategories
    FROM subs
    GROUP BY cat
), total AS (
    SELECT coalesce(sum(n), 0) AS n FROM cats
), shares AS (
    SELECT c.*, floor(c.n * 1000 / t.n) AS units,
           row_number() OVER (ORDER BY c.n * 1000 - floor(c.n * 1000 / t.n) * t.n DESC,
                                       c.n DESC, c.cat)
               <= 1000 - sum(floor(c.n * 1000 / t.n)) OVER () AS bonus
    FROM cats c CROSS JOIN total t
    WHERE t.n > 0
)
SELECT jsonb_build_object(
    'categories', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'name', cat, 'count', n,
                                'percentage', round((units + bonus::integer) / 10.0, 1),
                                'subcategories', subcategories)
                            ORDER BY n DESC, cat) FROM shares), '[]'::jsonb),
    'totalDescriptors', (SELECT n FROM total),
    'uniqueDescriptors', (SELECT count(DISTINCT form) FROM descriptors))
"""


def wheel_before(cur: Cursor, user: str) -> Answer:
    cur.execute(WHEEL_BEFORE, (user,))
    row = cur.fetchone()
    return row[0] if row else None


def wheel_after(cur: Cursor, user: str) -> Answer:
    cur.execute(
        "SELECT public.generate_wheel_data_optimized(%s, 'combined') - 'generatedAt'", (user,)
    )
    row = cur.fetchone()
    return row[0] if row else None


# Every column get_descriptors_paginated returns, has_more included.
PAGE_COLUMNS = (
    "id, descriptor_text, descriptor_type, category, subcategory, confidence_score, intensity, "
    "item_name, item_category, source_type, source_id, created_at"
)


def _page_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows as JSON-comparable values (text for ids, numbers and times)."""
    return [
        [v if v is None or isinstance(v, (bool, int, str)) else str(v) for v in r] for r in rows
    ]


def page_before(cur: Cursor, param: tuple[str, int]) -> Answer:
    user, page = param
    rows = _rows(
        cur,
        f"""SELECT {PAGE_COLUMNS}, count(*) OVER () > %s FROM (
                SELECT {PAGE_COLUMNS} FROM public.flavor_descriptors WHERE user_id = %s
                ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s) page
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (PAGE_SIZE, user, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE, PAGE_SIZE),
    )
    return _page_rows(rows)


def page_after_factory(cursors: dict[tuple[str, int], tuple[Any, Any]]) -> Callable[..., Answer]:
    def page_after(cur: Cursor, param: tuple[str, int]) -> Answer:
        cursor_id, cursor_at = cursors[param]
        rows = _rows(
            cur,
            "SELECT * FROM public.get_descriptors_paginated(%s, NULL, NULL, %s, %s, %s)",
            (param[0], cursor_id, cursor_at, PAGE_SIZE),
        )
        return _page_rows(rows)

    return page_after


def page_cursors(cur: Cursor, params: Sequence[tuple[str, int]]) -> dict[Any, tuple[Any, Any]]:
    found: dict[Any, tuple[Any, Any]] = {}
    for user, page in params:
        if page == 1:
            found[(user, page)] = (None, None)
            continue
        cur.execute(
            """SELECT id, created_at FROM public.flavor_descriptors WHERE user_id = %s
               ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %s""",
            (user, (page - 1) * PAGE_SIZE - 1),
        )
        row = cur.fetchone()
        found[(user, page)] = (str(row[0]), row[1]) if row else (None, None)
    return found


def autocomplete_before(cur: Cursor, prefix: str) -> Answer:
    rows = _rows(
        cur,
        f"""WITH forms AS (
                SELECT {NORM} AS form, descriptor_type, count(*) AS n
                FROM public.flavor_descriptors GROUP BY 1, 2)
            SELECT form, descriptor_type FROM forms
            WHERE form LIKE %s || '%%' OR word_similarity(%s, form) >= 0.5
            ORDER BY (form LIKE %s || '%%') DESC, n DESC, form, descriptor_type LIMIT 10""",
        (prefix, prefix, prefix),
    )
    return [(r[0], r[1]) for r in rows]


def autocomplete_after(cur: Cursor, prefix: str) -> Answer:
    rows = _rows(
        cur,
        "SELECT descriptor_text, descriptor_type FROM public.autocomplete_descriptors(%s)",
        (prefix,),
    )
    return [(seed_data.normalize_descriptor(r[0]), r[1]) for r in rows]


def stats_before(cur: Cursor, user: str) -> Answer:
    cur.execute(
        """SELECT count(*), count(*) FILTER (WHERE descriptor_type = 'aroma'),
                  count(*) FILTER (WHERE descriptor_type = 'flavor'),
                  count(DISTINCT source_id)
           FROM public.flavor_descriptors WHERE user_id = %s""",
        (user,),
    )
    row = cur.fetchone()
    return tuple(int(v) for v in row) if row else ()


def stats_after(cur: Cursor, user: str) -> Answer:
    cur.execute("SELECT public.get_user_descriptor_stats(%s)", (user,))
    row = cur.fetchone()
    stats = row[0] if row else {}
    by_type = stats.get("byType", {})
    return (
        int(stats.get("totalDescriptors", -1)),
        int(by_type.get("aroma", 0)),
        int(by_type.get("flavor", 0)),
        int(stats.get("sources", -1)),
    )


def similar_before(cur: Cursor, word: str) -> Answer:
    rows = _rows(
        cur,
        f"""SELECT form FROM (
                SELECT {NORM} AS form, count(*) AS n FROM public.flavor_descriptors
                GROUP BY 1) forms
            WHERE similarity(form, %s) >= 0.3
            ORDER BY similarity(form, %s) DESC, n DESC, form LIMIT 20""",
        (word, word),
    )
    return [r[0] for r in rows]


def similar_after(cur: Cursor, word: str) -> Answer:
    rows = _rows(cur, "SELECT descriptor_text FROM public.find_similar_descriptors(%s)", (word,))
    return [seed_data.normalize_descriptor(r[0]) for r in rows]


def duplicates_before(cur: Cursor, user: str) -> Answer:
    rows = _rows(
        cur,
        f"""WITH mine AS (
                SELECT DISTINCT {NORM} AS form, descriptor_type FROM public.flavor_descriptors
                WHERE user_id = %s)
            SELECT a.form, b.form, a.descriptor_type FROM mine a
            JOIN mine b ON b.descriptor_type = a.descriptor_type AND b.form > a.form
            WHERE similarity(a.form, b.form) >= 0.8""",
        (user,),
    )
    return sorted(rows)


def duplicates_after(cur: Cursor, user: str) -> Answer:
    rows = _rows(
        cur,
        """SELECT descriptor1_text, descriptor2_text, descriptor_type
           FROM public.find_duplicate_descriptors(%s, 0.8, 1000)""",
        (user,),
    )
    pairs = []
    for first, second, kind in rows:
        a, b = seed_data.normalize_descriptor(first), seed_data.normalize_descriptor(second)
        pairs.append((min(a, b), max(a, b), kind))
    return sorted(pairs)


# --- measuring ------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    answers: dict[str, Answer]


def measure(
    cur: Cursor, fn: Callable[[Cursor, Any], Answer], params: Sequence[Any], reps: int
) -> Timing:
    """Warm up once per parameter, then time ``reps`` calls cycling through them."""
    answers = {}
    for param in params:
        # JSON-shaped, so answers cached on disk compare equal to fresh ones.
        answers[repr(param)] = json.loads(json.dumps(_timed_call(cur, fn, param)[1]))
    samples = [_timed_call(cur, fn, params[i % len(params)])[0] for i in range(reps)]
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Timing(statistics.median(samples), p95, answers)


def _timed_call(cur: Cursor, fn: Callable[[Cursor, Any], Answer], param: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        answer = fn(cur, param)
    except psycopg2.errors.QueryCanceled:
        cur.connection.rollback()
        return float(BEFORE_TIMEOUT_MS), "timed out"
    return (time.perf_counter() - started) * 1000, answer


# --- the run --------------------------------------------------------------------


def _server_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def prepare_database(url: str, rows: int, seed: int, progress: bool) -> str:
    """A fresh flavatix_bench at revision 000 holding the dataset; returns its URL."""
    template = f"flavatix_bench_tmpl_{rows}_{seed}"
    scratch = f"flavatix_bench_{rows}"
    admin = psycopg2.connect(_server_url(url, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
                _fill_template(_server_url(url, template), rows, seed, progress)
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )
            cur.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(scratch), sql.Identifier(template)
                )
            )
    finally:
        admin.close()
    return _server_url(url, scratch)


def _fill_template(url: str, rows: int, seed: int, progress: bool) -> None:
    migrations.upgrade(url, "000")
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # The naive fuzzy "before" queries need these two.
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cur.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        conn.autocommit = False
        seed_data.load_descriptors(conn, rows, seed=seed, progress=progress)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) public.flavor_descriptors")
    finally:
        conn.close()


def build_kinds(cur: Cursor, rows: int, seed: int) -> list[Kind]:
    heaviest = str(seed_data.user_uuid(seed, seed_data.heaviest_user_rank(rows)))
    median_rank = seed_data.median_user_rank(rows)
    medians = [str(seed_data.user_uuid(seed, median_rank + k)) for k in (0, 1, 2)]
    users = [heaviest, *medians]
    vocabulary = [c.text for c in seed_data.VOCABULARY]
    common = [t for t in vocabulary[:40] if " " not in t][:3]
    rare = [t for t in vocabulary[1500:3000] if " " not in t and t.isascii()][:2]
    typos = [_misspell(t) for t in common[:2]]
    words = [*common, *rare, *typos]
    prefixes = [w[:3] for w in common] + [w[:4] for w in rare]
    cur.execute("SELECT count(*) FROM public.flavor_descriptors WHERE user_id = %s", (heaviest,))
    heaviest_rows = int((cur.fetchone() or (0,))[0])
    # 20 pages deep, or the heaviest user's last page on a small dataset.
    deep = max(1, min(DEEP_PAGE, -(-heaviest_rows // PAGE_SIZE)))
    page_params = [(heaviest, 1), (heaviest, deep), (medians[0], 1)]
    return [
        Kind("wheel_generation", users, wheel_before, wheel_after),
        # Keyset pages start where the previous page ended: the cursors are
        # found here, untimed, from columns the migration leaves alone.
        Kind(
            "descriptor_page",
            page_params,
            page_before,
            page_after_factory(page_cursors(cur, page_params)),
        ),
        Kind("autocomplete", prefixes, autocomplete_before, autocomplete_after),
        Kind("user_statistics", users, stats_before, stats_after),
        Kind("similarity_search", words, similar_before, similar_after),
        Kind("duplicate_detection", users, duplicates_before, duplicates_after),
    ]


def _misspell(word: str) -> str:
    """Drop one inner letter: a typo whose intended word is known."""
    middle = len(word) // 2
    return word[:middle] + word[middle + 1 :]


def before_cache_file(url: str, rows: int, seed: int, reps: int) -> Path:
    """Where the "before" side of a run is kept: it depends on the server and data only."""
    server = url.split("@")[-1].rsplit("/", 1)[0].replace(":", "-")
    name = f"before-{server}-r{rows}-s{seed}-n{reps}-{BEFORE_VERSION}.json"
    return cluster.default_home() / "bench-cache" / name


def measure_before(
    cur: Cursor, kinds: Sequence[Kind], reps: int, cache: Path, say: Callable[[str], None]
) -> dict[str, Timing]:
    """Time the naive queries, or reuse the figures a previous run measured on this data."""
    if cache.is_file():
        say(f"before: reusing {cache} (delete it to measure again)")
        return {name: Timing(**t) for name, t in json.loads(cache.read_text()).items()}
    say(f"before: {len(kinds)} kinds x {reps} calls on the baseline schema")
    cur.execute(f"SET statement_timeout = {BEFORE_TIMEOUT_MS}")
    before = {kind.name: measure(cur, kind.before, kind.params, reps) for kind in kinds}
    cur.execute("RESET statement_timeout")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({name: asdict(t) for name, t in before.items()}))
    return before


def changed_users(rows: int, seed: int) -> list[str]:
    """About CHANGED_USERS users spread evenly over the activity ranks, heaviest first."""
    count = seed_data.user_count(rows)
    step = max(1, count // CHANGED_USERS)
    return [str(seed_data.user_uuid(seed, rank)) for rank in range(0, count, step)][:CHANGED_USERS]


def measure_refresh(cur: Cursor, changes: int, users: Sequence[str]) -> RefreshResult:
    """Apply mixed changes, time the incremental refresh, then a full rebuild, and compare."""
    changed = mixed_changes.apply(cur, changes, users)
    started = time.perf_counter()
    cur.execute("SELECT public.refresh_descriptor_views()")
    incremental_seconds = time.perf_counter() - started
    incremental = mixed_changes.digest(cur)
    started = time.perf_counter()
    cur.execute("SELECT public.refresh_descriptor_views(true)")
    full_seconds = time.perf_counter() - started
    return RefreshResult(
        full_seconds=round(full_seconds, 2),
        incremental_seconds=round(incremental_seconds, 2),
        changed_rows=changed,
        same_as_full=incremental == mixed_changes.digest(cur),
    )


def run(
    url: str,
    rows: int,
    seed: int = 42,
    reps: int = 30,
    changes: int = 10_000,
    insert_rounds: int = 20,
    progress: bool = True,
    say: Callable[[str], None] = print,
    *,
    partitioned: bool = False,
) -> BenchResult:
    """Before and after; with ``partitioned``, "after" runs on the switched table (005)."""
    bench_url = prepare_database(url, rows, seed, progress)
    migration: dict[str, float] = {}
    conn = psycopg2.connect(bench_url, application_name="flavatix-db bench")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            kinds = build_kinds(cur, rows, seed)
            before = measure_before(cur, kinds, reps, before_cache_file(url, rows, seed, reps), say)

            say("upgrading to head while a concurrent writer inserts")
            upgrade = traffic.upgrade_under_traffic(bench_url, "head", migrations.upgrade)
            # The traffic's rows would change the answers "before" was measured on.
            cur.execute(
                "DELETE FROM public.flavor_descriptors WHERE source_id = ANY(%s::uuid[])",
                (list(upgrade.source_ids),),
            )
            if partitioned:
                say("switching to the partitioned table while a writer inserts, updates, deletes")
                migration.update(_switch_under_traffic(cur, bench_url))
            started = time.perf_counter()
            cur.execute("SELECT public.refresh_descriptor_views()")
            refresh_seconds = time.perf_counter() - started
            # Measured on a settled database: the build just wrote every summary
            # and count, and autovacuum would otherwise scan them during the
            # measurements (minutes at ten million rows).
            for table in ("flavor_descriptors", *mixed_changes.SUMMARIES, *mixed_changes.COUNTS):
                cur.execute(sql.SQL("VACUUM (ANALYZE) public.{}").format(sql.Identifier(table)))

            say("after: the optimized functions")
            after = {kind.name: measure(cur, kind.after, kind.params, reps) for kind in kinds}
            floor = measure(cur, primary_key_lookup, _some_ids(cur), reps)
            refresh = None
            if changes:
                say(f"refresh: {changes} mixed changes, incremental refresh, full rebuild")
                refresh = measure_refresh(cur, changes, changed_users(rows, seed))
            insert_tracking = None
            if insert_rounds:
                say("insert: single-row INSERTs with and without change tracking")
                insert_tracking = insert_cost.measure(cur, rounds=insert_rounds)
    finally:
        conn.close()

    queries = []
    for kind in kinds:
        b, a = before[kind.name], after[kind.name]
        queries.append(
            KindResult(
                kind=kind.name,
                before_p50_ms=round(b.p50_ms, 3),
                before_p95_ms=round(b.p95_ms, 3),
                after_p50_ms=round(a.p50_ms, 3),
                after_p95_ms=round(a.p95_ms, 3),
                speedup_p50=round(b.p50_ms / a.p50_ms, 1) if a.p50_ms else 0.0,
                same_answers=same_answers(b.answers, a.answers),
            )
        )
    return BenchResult(
        rows=rows,
        floor_p50_ms=round(floor.p50_ms, 3),
        migration={
            "seconds": round(upgrade.seconds, 1),
            "writer_max_wait_ms": round(upgrade.traffic.max_wait_ms, 1),
            "refresh_seconds": round(refresh_seconds, 1),
            **migration,
        },
        queries=queries,
        refresh=refresh,
        insert_tracking=insert_tracking,
    )


def _switch_under_traffic(cur: Cursor, url: str) -> dict[str, float]:
    """`partition migrate` while a writer inserts, updates and deletes its own rows."""
    with traffic.Traffic(url, traffic.sample_users(url), mixed=True) as writer:
        time.sleep(0.5)
        started = time.perf_counter()
        step = partitioning.migrate(url)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
    report = writer.report()
    cur.execute(
        "DELETE FROM public.flavor_descriptors WHERE source_id = ANY(%s::uuid[])",
        (list(writer.source_ids),),
    )
    cur.execute("SELECT flavatix_partitions.cleanup()")
    return {
        "partition_seconds": round(seconds, 1),
        "partition_rows_per_second": round(step.rows_copied / seconds) if seconds else 0,
        "partition_writer_max_wait_ms": round(report.max_wait_ms, 1),
        "partition_writer_statements": report.inserts
        + report.updates
        + report.deletes
        + report.selects,
        "partition_writer_failed": len(report.errors),
    }


def same_answers(before: dict[str, Answer], after: dict[str, Answer]) -> bool:
    """Equal for every parameter; a "before" that timed out proves nothing either way."""
    return all(b == "timed out" or b == after.get(key) for key, b in before.items())


def primary_key_lookup(cur: Cursor, row_id: str) -> Answer:
    return len(_rows(cur, "SELECT * FROM public.flavor_descriptors WHERE id = %s", (row_id,)))


def _some_ids(cur: Cursor) -> list[str]:
    cur.execute("SELECT id FROM public.flavor_descriptors TABLESAMPLE SYSTEM (1) LIMIT 20")
    ids = [str(r[0]) for r in cur.fetchall()]
    return ids or [str(uuid.uuid4())]


# --- reporting ------------------------------------------------------------------


def format_table(result: BenchResult) -> str:
    """The seed's Performance Baselines table, measured, as Markdown."""
    floor = result.floor_p50_ms
    lines = [
        f"{result.rows:,} rows; floor (primary-key lookup) p50 {floor:.2f} ms",
        "",
        "| query | before p50 | before p95 | after p50 | after p95 | speedup (p50) "
        "| after / floor | same answers |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for q in result.queries:
        over_floor = q.after_p50_ms / floor if floor else 0.0
        lines.append(
            f"| {q.kind} | {q.before_p50_ms:.1f} ms | {q.before_p95_ms:.1f} ms "
            f"| {q.after_p50_ms:.2f} ms | {q.after_p95_ms:.2f} ms | {q.speedup_p50:.1f}x "
            f"| {over_floor:.1f}x | {'yes' if q.same_answers else 'NO'} |"
        )
    m = result.migration
    lines += [
        "",
        f"alembic upgrade head under load: {m['seconds']} s; longest wait of a concurrent "
        f"single-row INSERT or SELECT: {m['writer_max_wait_ms']} ms; "
        f"refresh_descriptor_views(): {m['refresh_seconds']} s",
    ]
    if "partition_seconds" in m:
        lines.append(
            f"partition migrate under load: {m['partition_seconds']} s "
            f"({m['partition_rows_per_second']:.0f} rows/s); longest wait of a concurrent "
            f"INSERT, UPDATE, DELETE or SELECT: {m['partition_writer_max_wait_ms']} ms; "
            f"{m['partition_writer_failed']:.0f} of {m['partition_writer_statements']:.0f} "
            'failed; "after" measured on the partitioned table'
        )
    if result.refresh is not None:
        r = result.refresh
        share = r.incremental_seconds / r.full_seconds * 100 if r.full_seconds else 0.0
        lines += [
            "",
            f"refresh after {r.changed_rows:,} changed rows: incremental "
            f"{r.incremental_seconds} s, full rebuild {r.full_seconds} s ({share:.1f} %); "
            f"same as the full rebuild: {'yes' if r.same_as_full else 'NO'}",
        ]
    if result.insert_tracking is not None:
        t = result.insert_tracking
        lines.append(
            f"single-row INSERT, own transaction (median of {t.statements:,}): "
            f"{t.without_ms} ms without change tracking, {t.with_ms} ms with "
            f"({t.overhead_percent:+.1f} %)"
        )
    return "\n".join(lines)


def write_json(result: BenchResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n")


def write_chart(result: BenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [q.kind.replace("_", "\n") for q in result.queries]
    x = range(len(kinds))
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.bar([i - 0.2 for i in x], [q.before_p50_ms for q in result.queries], 0.4, label="before")
    ax.bar([i + 0.2 for i in x], [q.after_p50_ms for q in result.queries], 0.4, label="after")
    ax.axhline(result.floor_p50_ms, color="grey", linestyle="--", label="primary-key lookup")
    ax.set_yscale("log")
    ax.set_ylabel("p50 latency (ms, log scale)")
    ax.set_xticks(list(x), kinds)
    ax.set_title(f"flavatix-db: before and after the plan, {result.rows:,} rows")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
