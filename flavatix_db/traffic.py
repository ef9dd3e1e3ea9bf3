"""Application-like traffic on a second connection while a migration runs.

It answers the question an operator asks before running a migration on a live
database: how long did the application's single-row writes and reads wait?
Writes use only baseline columns, the way the previous release's code does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg2
import psycopg2.extensions

INSERT = """
INSERT INTO public.flavor_descriptors
    (user_id, source_type, source_id, descriptor_text, descriptor_type, category, intensity)
VALUES (%s, 'quick_tasting', %s, %s, 'aroma', 'Fruity', 3)
"""
# Ordinary descriptors, as the app writes them: numbered probe texts would be
# thousands of near-identical forms, which no real vocabulary has.
TEXTS = ("cherry", "vanilla", "caramel", "oak", "honey", "smoke", "black pepper", "citrus peel")
SELECT = """
SELECT id, descriptor_text, created_at FROM public.flavor_descriptors
WHERE user_id = %s ORDER BY created_at DESC LIMIT 20
"""
INSERT_RETURNING = INSERT.rstrip() + " RETURNING id\n"
UPDATE = """
UPDATE public.flavor_descriptors SET intensity = 1 + intensity %% 5, category = %s
WHERE id = %s
"""
DELETE = "DELETE FROM public.flavor_descriptors WHERE id = %s"


# A statement that took this long is listed with the moment it started, so
# that it can be matched with the server's log (lock waits, checkpoints).
SLOW_MS = 300.0


@dataclass(frozen=True)
class SlowStatement:
    kind: str
    started_at: datetime
    ms: float


@dataclass
class Waits:
    """Latencies (ms) of one kind of statement, and the errors it met."""

    kind: str = "statement"
    samples: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slow: list[SlowStatement] = field(default_factory=list)

    @property
    def max_ms(self) -> float:
        return max(self.samples, default=0.0)

    def record(
        self, cur: psycopg2.extensions.cursor, sql: str, params: tuple[Any, ...]
    ) -> list[tuple[Any, ...]]:
        wall = time.time()
        started = time.perf_counter()
        rows: list[tuple[Any, ...]] = []
        try:
            cur.execute(sql, params)
            if cur.description:
                rows = cur.fetchall()
        except psycopg2.Error as exc:
            self.errors.append(str(exc).strip().splitlines()[0])
        ms = (time.perf_counter() - started) * 1000
        self.samples.append(ms)
        if ms >= SLOW_MS:
            self.slow.append(SlowStatement(self.kind, datetime.fromtimestamp(wall, UTC), ms))
        return rows

    def between(self, start: tuple[int, int, int], end: tuple[int, int, int] | None) -> Waits:
        """The statements recorded after ``start`` and before ``end`` (from ``position``)."""
        (s0, e0, w0), (s1, e1, w1) = start, end or self.position()
        return Waits(self.kind, self.samples[s0:s1], self.errors[e0:e1], self.slow[w0:w1])

    def position(self) -> tuple[int, int, int]:
        return len(self.samples), len(self.errors), len(self.slow)


@dataclass(frozen=True)
class TrafficReport:
    inserts: int
    selects: int
    insert_max_ms: float
    select_max_ms: float
    errors: tuple[str, ...]
    updates: int = 0
    deletes: int = 0
    update_max_ms: float = 0.0
    delete_max_ms: float = 0.0
    slow: tuple[SlowStatement, ...] = ()

    @property
    def max_wait_ms(self) -> float:
        return max(self.insert_max_ms, self.select_max_ms, self.update_max_ms, self.delete_max_ms)


@dataclass(frozen=True)
class TrafficMark:
    positions: tuple[tuple[int, int, int], ...]


class Traffic:
    """Runs INSERT and SELECT in turn, one every ``pause`` seconds, until stopped.

    With ``mixed``, every turn also updates one of its earlier rows and deletes
    another, so a copy of the table must follow every kind of write.
    """

    def __init__(
        self,
        url: str,
        user_ids: Sequence[uuid.UUID],
        pause: float = 0.005,
        *,
        mixed: bool = False,
    ) -> None:
        if not user_ids:
            raise ValueError("traffic needs at least one user id")
        self._url = url
        self._users = list(user_ids)
        self._pause = pause
        self._stop = threading.Event()
        self._mixed = mixed
        self._inserts = Waits("INSERT")
        self._selects = Waits("SELECT")
        self._updates = Waits("UPDATE")
        self._deletes = Waits("DELETE")
        # Every row the traffic writes has a source of its own, listed here for cleanup.
        self.source_ids: list[str] = []
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self) -> TrafficMark:
        """Where the traffic stands now; ``report(since=...)`` covers what came after."""
        return TrafficMark(tuple(w.position() for w in self._kinds()))

    def report(
        self, since: TrafficMark | None = None, until: TrafficMark | None = None
    ) -> TrafficReport:
        """Every statement so far, or those between two marks."""
        kinds: tuple[Waits, ...] = self._kinds()
        if since is not None:
            ends = until.positions if until else (None,) * len(kinds)
            kinds = tuple(
                w.between(m, e) for w, m, e in zip(kinds, since.positions, ends, strict=True)
            )
        inserts, selects, updates, deletes = kinds
        return TrafficReport(
            inserts=len(inserts.samples),
            selects=len(selects.samples),
            insert_max_ms=inserts.max_ms,
            select_max_ms=selects.max_ms,
            errors=tuple(inserts.errors + selects.errors + updates.errors + deletes.errors),
            updates=len(updates.samples),
            deletes=len(deletes.samples),
            update_max_ms=updates.max_ms,
            delete_max_ms=deletes.max_ms,
            slow=tuple(
                sorted(
                    (*inserts.slow, *selects.slow, *updates.slow, *deletes.slow),
                    key=lambda s: s.started_at,
                )
            ),
        )

    def _kinds(self) -> tuple[Waits, Waits, Waits, Waits]:
        # Lists only grow and the traffic thread appends to them: a copy of
        # each is a consistent enough view.
        return (
            self._copy(self._inserts),
            self._copy(self._selects),
            self._copy(self._updates),
            self._copy(self._deletes),
        )

    @staticmethod
    def _copy(waits: Waits) -> Waits:
        return Waits(waits.kind, list(waits.samples), list(waits.errors), list(waits.slow))

    def _run(self) -> None:
        conn = psycopg2.connect(self._url, application_name="flavatix-db traffic")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                turn = 0
                written: list[str] = []
                while not self._stop.is_set():
                    user = str(self._users[turn % len(self._users)])
                    source = str(uuid.uuid4())
                    self.source_ids.append(source)
                    text = TEXTS[turn % len(TEXTS)]
                    if self._mixed:
                        added = self._inserts.record(cur, INSERT_RETURNING, (user, source, text))
                        written.extend(str(row[0]) for row in added)
                        self._selects.record(cur, SELECT, (user,))
                        if len(written) > 2:
                            changed = written[turn % len(written)]
                            self._updates.record(cur, UPDATE, (TEXTS[turn % 3], changed))
                            self._deletes.record(cur, DELETE, (written.pop(0),))
                    else:
                        self._inserts.record(cur, INSERT, (user, source, text))
                        self._selects.record(cur, SELECT, (user,))
                    turn += 1
                    time.sleep(self._pause)
        finally:
            conn.close()


@dataclass(frozen=True)
class UpgradeUnderTraffic:
    target: str
    seconds: float
    traffic: TrafficReport
    source_ids: tuple[str, ...]


def sample_users(url: str, limit: int = 50) -> list[uuid.UUID]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT user_id FROM public.flavor_descriptors LIMIT %s", (limit,))
            users = [uuid.UUID(str(row[0])) for row in cur.fetchall()]
    finally:
        conn.close()
    return users or [uuid.uuid4()]


def migrate_under_traffic(
    url: str,
    target: str,
    step: Callable[[str, str], None],
    *,
    mixed: bool = False,
) -> UpgradeUnderTraffic:
    """Run ``step(url, target)`` (an upgrade or a downgrade) while Traffic runs beside it."""
    with Traffic(url, sample_users(url), mixed=mixed) as traffic:
        # Let the traffic settle before the migration starts.
        time.sleep(0.5)
        started = time.perf_counter()
        step(url, target)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
    return UpgradeUnderTraffic(
        target=target,
        seconds=seconds,
        traffic=traffic.report(),
        source_ids=tuple(traffic.source_ids),
    )


def upgrade_under_traffic(
    url: str, target: str, upgrade: Callable[[str, str], None]
) -> UpgradeUnderTraffic:
    """Run ``upgrade(url, target)`` while Traffic writes and reads on another connection."""
    return migrate_under_traffic(url, target, upgrade)
