"""What change tracking (revision 003's insert trigger) adds to a single-row INSERT.

Measured as the application sends one: a single-row INSERT in its own
transaction, timed at the client, commit included. Rounds alternate the
trigger enabled and disabled so that drift of the machine's load falls on
both sides; the figure is the median of each side. ALTER TABLE takes an
exclusive lock for each switch: for a benchmark database, not a live one.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass

import psycopg2.extensions

Cursor = psycopg2.extensions.cursor

TRIGGER = "flavor_descriptors_count_inserts"
MARK = "flavatix-db insert cost"  # item_name of the rows it writes (and deletes)
INSERT = (
    "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, descriptor_text, "
    "descriptor_type, intensity, item_name, created_at) "
    f"VALUES (%s, 'quick_review', %s, 'cherry', 'aroma', 3, '{MARK}', now())"
)


@dataclass(frozen=True)
class InsertCost:
    without_ms: float
    with_ms: float
    overhead_percent: float
    statements: int


def _round(cur: Cursor, enabled: bool, statements: int, sources: list[str]) -> list[float]:
    cur.execute(
        f"ALTER TABLE public.flavor_descriptors {'ENABLE' if enabled else 'DISABLE'} "
        f"TRIGGER {TRIGGER}"
    )
    timings = []
    for _ in range(statements):
        source = str(uuid.uuid4())
        sources.append(source)
        started = time.perf_counter()
        cur.execute(INSERT, (str(uuid.uuid4()), source))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure(cur: Cursor, rounds: int = 20, statements: int = 100) -> InsertCost:
    """Median single-row INSERT with and without tracking; the rows are deleted afterwards.

    ``cur`` must be in autocommit mode, so that each INSERT commits on its own.
    """
    if not cur.connection.autocommit:
        raise ValueError("insert_cost.measure needs an autocommit connection")
    with_tracking: list[float] = []
    without: list[float] = []
    sources: list[str] = []
    try:
        for n in range(rounds):
            # Alternate which side goes first, so neither always follows the other.
            for enabled in (n % 2 == 0, n % 2 == 1):
                found = _round(cur, enabled, statements, sources)
                (with_tracking if enabled else without).extend(found)
    finally:
        cur.execute(f"ALTER TABLE public.flavor_descriptors ENABLE TRIGGER {TRIGGER}")
        cur.execute(
            "DELETE FROM public.flavor_descriptors WHERE source_id = ANY(%s::uuid[])", (sources,)
        )
    plain, tracked = statistics.median(without), statistics.median(with_tracking)
    return InsertCost(
        without_ms=round(plain, 3),
        with_ms=round(tracked, 3),
        overhead_percent=round((tracked - plain) / plain * 100, 1),
        statements=len(sources),
    )
