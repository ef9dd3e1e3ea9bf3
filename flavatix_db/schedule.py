"""The maintenance jobs as pg_cron jobs named flavatix-<job>.

pg_cron 1.4 exists in one database of a server, the one named by
cron.database_name; jobs for another database are registered there with
cron.schedule_in_database. On Supabase that database is usually the app's own.
Installing twice gives the same set; removing touches only these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import make_dsn, parse_dsn

from flavatix_db.maintenance import JOBS

PREFIX = "flavatix-"
HOW_TO_GET_IT = (
    "pg_cron is not available on this server: install it (Debian: apt-get install "
    "postgresql-15-cron), add pg_cron to shared_preload_libraries, set cron.database_name, "
    "restart, then CREATE EXTENSION pg_cron in that database (Supabase: enable pg_cron "
    "under Database > Extensions); or run `flavatix-db maintain --loop` from any scheduler"
)


class ScheduleError(RuntimeError):
    """pg_cron is missing or refused; the message says what to do."""


@dataclass(frozen=True)
class CronJob:
    name: str
    schedule: str
    command: str
    database: str
    active: bool


def _cron_url(url: str) -> tuple[str, str]:
    """The URL of the database that holds pg_cron, and the name of ``url``'s database."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('cron.database_name', true), current_database()")
            cron_db, here = cur.fetchone() or (None, None)
    finally:
        conn.close()
    if not cron_db:
        raise ScheduleError(HOW_TO_GET_IT)
    params = parse_dsn(url)
    params["dbname"] = cron_db
    return make_dsn(**params), str(here)


def _cron_connection(url: str) -> tuple[psycopg2.extensions.connection, str, bool]:
    cron_url, here = _cron_url(url)
    conn = psycopg2.connect(cron_url, application_name="flavatix-db schedule")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")
        if not (cur.fetchone() or (0,))[0]:
            conn.close()
            raise ScheduleError(HOW_TO_GET_IT)
        cur.execute("SELECT current_database()")
        same = (cur.fetchone() or ("",))[0] == here
    return conn, here, same


def install(url: str) -> list[CronJob]:
    conn, database, same = _cron_connection(url)
    try:
        with conn.cursor() as cur:
            for job in JOBS:
                name = PREFIX + job.name
                if same:
                    cur.execute("SELECT cron.schedule(%s, %s, %s)", (name, job.cron, job.sql))
                else:
                    # Replace rather than rely on an upsert: the same name then
                    # always means one job.
                    cur.execute(
                        "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s", (name,)
                    )
                    cur.execute(
                        "SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                        (name, job.cron, job.sql, database),
                    )
        return _list(conn)
    except psycopg2.Error as exc:
        raise ScheduleError(f"pg_cron refused: {exc.diag.message_primary or exc}") from None
    finally:
        conn.close()


def remove(url: str) -> int:
    conn, _, _ = _cron_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(cron.unschedule(jobid)) FROM cron.job WHERE jobname = ANY(%s)",
                ([PREFIX + job.name for job in JOBS],),
            )
            return int((cur.fetchone() or (0,))[0])
    finally:
        conn.close()


def _list(conn: psycopg2.extensions.connection) -> list[CronJob]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT jobname, schedule, command, database, active FROM cron.job "
            "WHERE jobname = ANY(%s) ORDER BY jobname",
            ([PREFIX + job.name for job in JOBS],),
        )
        return [CronJob(*row) for row in cur.fetchall()]


def listing(url: str) -> list[CronJob]:
    conn, _, _ = _cron_connection(url)
    try:
        return _list(conn)
    finally:
        conn.close()


def last_cron_runs(url: str) -> dict[str, dict[str, Any]]:
    """Per job, pg_cron's record of its last run, where pg_cron holds these jobs."""
    try:
        conn, _, _ = _cron_connection(url)
    except (ScheduleError, psycopg2.Error):
        return {}
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT ON (j.jobname) j.jobname, d.start_time, d.end_time, d.status, "
                "d.return_message FROM cron.job j JOIN cron.job_run_details d USING (jobid) "
                "WHERE j.jobname = ANY(%s) ORDER BY j.jobname, d.start_time DESC",
                ([PREFIX + job.name for job in JOBS],),
            )
            return {
                str(name)[len(PREFIX) :]: {
                    "started_at": start,
                    "finished_at": end,
                    "outcome": status,
                    "message": message,
                }
                for name, start, end, status, message in cur.fetchall()
            }
    finally:
        conn.close()
