"""The plan's scheduled jobs, run by `flavatix-db maintain` or by pg_cron.

Each job is one SQL call of revisions 003, 005 and 006. `maintain --once` runs
every job once; `--loop` runs each at its cadence. A job that fails is logged
and recorded, and the others still run. Two maintain processes never run the
same job at once: each run holds a session advisory lock for its job.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import psycopg2.extensions

from flavatix_db import migrations

log = logging.getLogger("flavatix_db.maintain")

# Any constant works as long as every maintain process uses the same one.
JOB_LOCK_SPACE = 7_146_220


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    cron: str  # the same cadence for pg_cron (finest: one minute)
    sql: str
    description: str
    # The revision that makes the job's function: a maintain run beside a
    # deploy may meet a database where that revision is not applied yet.
    revision: str


# In this order, so that the snapshot and the alerts see the partitions and
# summaries as the other jobs leave them.
JOBS: tuple[Job, ...] = (
    Job(
        "partitions",
        timedelta(days=1),
        "0 3 * * *",
        "SELECT public.run_partition_maintenance()",
        "partition maintenance",
        "005",
    ),
    Job(
        "refresh",
        timedelta(minutes=15),
        "*/15 * * * *",
        "SELECT public.refresh_descriptor_views()",
        "summaries refresh",
        "003",
    ),
    Job(
        "snapshot",
        timedelta(minutes=5),
        "*/5 * * * *",
        "SELECT public.capture_performance_snapshot()",
        "performance snapshot",
        "006",
    ),
    Job(
        "alerts",
        timedelta(minutes=15),
        "*/15 * * * *",
        "SELECT public.check_performance_alerts()",
        "performance alerts",
        "006",
    ),
    Job(
        "cleanup",
        timedelta(days=7),
        "0 4 * * 0",
        "SELECT public.cleanup_monitoring_data(30)",
        "monitoring cleanup",
        "006",
    ),
)
JOB_NAMES = tuple(job.name for job in JOBS)
# How often the refresh job asks should_refresh_views() between full cadences.
REFRESH_CHECK = timedelta(minutes=5)


@dataclass(frozen=True)
class JobRun:
    job: str
    started_at: str
    seconds: float
    outcome: str  # ok | skipped | failed
    detail: str | None
    error: str | None


def _lock_key(job: str) -> int:
    return zlib.crc32(job.encode()) & 0x7FFFFFFF  # an int4, as the two-key lock wants


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "pgerror", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _skip_reason(
    cur: psycopg2.extensions.cursor, job: Job, forced: bool, applied: Collection[str]
) -> str | None:
    """Why the job has nothing to do now, or None."""
    if job.revision not in applied:
        return f"revision {job.revision} is not applied"
    if job.name == "partitions":
        # From the catalog: the partition functions are the owner's alone.
        cur.execute(
            "SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_class c "
            "WHERE c.relname = 'flavor_descriptors' AND c.relkind = 'p' "
            "AND c.relnamespace IN ('public'::regnamespace, "
            "to_regnamespace('flavatix_partitions')))"
        )
        if (cur.fetchone() or (True,))[0]:
            return "flavor_descriptors is not partitioned yet (flavatix-db partition migrate)"
    if job.name == "refresh" and not forced:
        cur.execute(
            "SELECT public.should_refresh_views() OR coalesce(min(last_refreshed_at) "
            "< now() - interval '15 minutes', true) FROM public.mv_refresh_log"
        )
        if not (cur.fetchone() or (True,))[0]:
            return "fewer changes than should_refresh_views() asks for"
    return None


def run_job(
    conn: psycopg2.extensions.connection,
    job: Job,
    applied: Collection[str],
    *,
    forced: bool = True,
) -> JobRun:
    """Run one job in its own transaction and record the run; never raises for SQL errors.

    ``applied``: the revisions the database is at or beyond.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    outcome, detail, error = "ok", None, None
    with conn.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", (JOB_LOCK_SPACE, _lock_key(job.name)))
        locked = bool((cur.fetchone() or (False,))[0])
        try:
            if not locked:
                outcome, detail = "skipped", "another maintain process is running it"
            else:
                reason = _skip_reason(cur, job, forced, applied)
                if reason:
                    outcome, detail = "skipped", reason
                else:
                    cur.execute("SET statement_timeout = 0")
                    cur.execute(job.sql)
                    row = cur.fetchone()
                    value = None if row is None else row[0]
                    if isinstance(value, dict | list):
                        detail = json.dumps(value)[:500]
                    elif value not in (None, ""):
                        detail = str(value)[:500]
        except psycopg2.Error as exc:
            outcome, error = "failed", _first_line(exc)
        finally:
            if locked:
                cur.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", (JOB_LOCK_SPACE, _lock_key(job.name))
                )
    run = JobRun(job.name, started.isoformat(), time.perf_counter() - clock, outcome, detail, error)
    _record(conn, run)
    return run


def _record(conn: psycopg2.extensions.connection, run: JobRun) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO flavatix_ops.job_runs (job, started_at, finished_at, outcome, "
                "detail, error) VALUES (%s, %s, %s::timestamptz + %s * interval '1 second', "
                "%s, %s, %s)",
                (
                    run.job,
                    run.started_at,
                    run.started_at,
                    run.seconds,
                    run.outcome,
                    run.detail,
                    run.error,
                ),
            )
    except psycopg2.Error as exc:
        log.warning("could not record the run of %s: %s", run.job, _first_line(exc))


def _connect(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, application_name="flavatix-db maintain")
    conn.autocommit = True
    return conn


def log_run(run: JobRun) -> None:
    what = run.error if run.outcome == "failed" else (run.detail or "")
    level = logging.ERROR if run.outcome == "failed" else logging.INFO
    log.log(level, "%-10s %-7s %6.2fs %s", run.job, run.outcome, run.seconds, what)


def run_once(url: str, jobs: Sequence[str] = JOB_NAMES) -> list[JobRun]:
    """Every job once, each in its own transaction; failures do not stop the rest."""
    conn = _connect(url)
    applied = migrations.applied_revisions(url)
    try:
        runs = []
        for job in JOBS:
            if job.name in jobs:
                run = run_job(conn, job, applied)
                log_run(run)
                runs.append(run)
        return runs
    finally:
        conn.close()


def last_runs(cur: psycopg2.extensions.cursor) -> dict[str, tuple[datetime, datetime | None]]:
    """Per job: when it was last attempted, and when it last ran to completion."""
    cur.execute(
        "SELECT job, max(started_at), max(started_at) FILTER (WHERE outcome = 'ok') "
        "FROM flavatix_ops.job_runs GROUP BY job"
    )
    return {str(job): (tried, done) for job, tried, done in cur.fetchall()}


def run_loop(
    url: str,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    tick_seconds: float = 30.0,
) -> int:
    """Run each job when it is due, until stopped; returns the number of failed runs."""
    failures = 0
    conn = _connect(url)
    try:
        while not should_stop():
            with conn.cursor() as cur:
                last = last_runs(cur)
            applied = migrations.applied_revisions(url)
            now = datetime.now(UTC)
            for job in JOBS:
                tried, done = last.get(job.name, (None, None))
                # The refresh asks should_refresh_views() every few minutes and
                # runs regardless once its own cadence has passed.
                cadence = REFRESH_CHECK if job.name == "refresh" else job.every
                if tried is not None and now - tried < cadence:
                    continue
                forced = done is None or now - done >= job.every
                run = run_job(conn, job, applied, forced=forced)
                log_run(run)
                failures += run.outcome == "failed"
            deadline = time.monotonic() + tick_seconds
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(1.0, tick_seconds))
    finally:
        conn.close()
    return failures


def as_json(runs: Sequence[JobRun]) -> dict[str, Any]:
    return {
        "jobs": [asdict(run) for run in runs],
        "failed": [run.job for run in runs if run.outcome == "failed"],
    }
