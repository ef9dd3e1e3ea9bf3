"""`flavatix-db status` and `flavatix-db dashboard`: one readable screen each.

Every part is read from what the revisions made, and says so when a revision
that provides it is not applied yet.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg2
import psycopg2.extensions

from flavatix_db import maintenance, migrations, partitioning, schedule


def _has_function(cur: psycopg2.extensions.cursor, signature: str) -> bool:
    cur.execute("SELECT to_regprocedure(%s) IS NOT NULL", (signature,))
    return bool((cur.fetchone() or (False,))[0])


def collect(url: str) -> dict[str, Any]:
    """Everything the status screen shows, as JSON-ready data."""
    report: dict[str, Any] = {
        "current_revision": migrations.current_revision(url),
        "head_revision": migrations.head_revision(),
    }
    conn = psycopg2.connect(url, application_name="flavatix-db status")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            report["verification"] = _verification(cur)
            report["summaries"] = _summaries(cur)
            report["open_alerts"] = (
                partitioning.fetch_dicts(
                    cur,
                    "SELECT alert_type, severity, message, raised_at "
                    "FROM public.performance_alerts "
                    "WHERE resolved_at IS NULL ORDER BY raised_at DESC",
                )
                if _has_function(cur, "public.check_performance_alerts()")
                else None
            )
            report["jobs"] = _jobs(cur, url)
    finally:
        conn.close()
    report["partitioning"] = partitioning.status(url)
    plain: dict[str, Any] = json.loads(json.dumps(report, default=_plain))
    return plain


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _verification(cur: psycopg2.extensions.cursor) -> dict[str, Any]:
    if not _has_function(cur, "public.verify_migrations()"):
        return {"available": False, "reason": "verify_migrations() is not in this database"}
    rows = partitioning.fetch_dicts(
        cur, "SELECT migration_name, status, details FROM public.verify_migrations()"
    )
    failed = [r for r in rows if r["status"] == "FAILED"]
    return {"available": True, "clean": not failed, "failed": failed}


def _summaries(cur: psycopg2.extensions.cursor) -> dict[str, Any] | None:
    cur.execute("SELECT to_regclass('public.mv_refresh_log') IS NOT NULL")
    if not (cur.fetchone() or (False,))[0]:
        return None
    rows = partitioning.fetch_dicts(
        cur,
        "SELECT min(last_refreshed_at) AS oldest_refreshed_at, "
        "date_trunc('second', now() - min(last_refreshed_at)) AS age "
        "FROM public.mv_refresh_log",
    )
    summary = rows[0]
    if _has_function(cur, "public.should_refresh_views(integer)"):
        cur.execute("SELECT public.should_refresh_views()")
        summary["needs_refresh"] = bool((cur.fetchone() or (False,))[0])
    return summary


def _jobs(cur: psycopg2.extensions.cursor, url: str) -> dict[str, Any]:
    jobs: dict[str, Any] = {name: None for name in maintenance.JOB_NAMES}
    cur.execute("SELECT to_regclass('flavatix_ops.job_runs') IS NOT NULL")
    if (cur.fetchone() or (False,))[0]:
        for row in partitioning.fetch_dicts(
            cur,
            "SELECT DISTINCT ON (job) job, started_at, finished_at - started_at AS took, "
            "outcome, coalesce(error, detail) AS detail FROM flavatix_ops.job_runs "
            "ORDER BY job, started_at DESC",
        ):
            jobs[row.pop("job")] = {"via": "maintain", **row}
    for name, run in schedule.last_cron_runs(url).items():
        mine = jobs.get(name)
        if mine is None or str(run["started_at"]) > str(mine["started_at"]):
            jobs[name] = {"via": "pg_cron", **run}
    return jobs


def render(report: dict[str, Any]) -> str:
    current, head = report["current_revision"], report["head_revision"]
    lines = [
        f"revision      {current or 'none'} (head {head})"
        + ("" if current == head else "  -> alembic upgrade head"),
    ]
    verification = report["verification"]
    if not verification["available"]:
        lines.append(f"verification  not available: {verification['reason']}")
    elif verification["clean"]:
        lines.append("verification  clean: every applied revision's objects are in place")
    else:
        names = ", ".join(r["migration_name"] for r in verification["failed"])
        lines.append(f"verification  FAILED for {names}: SELECT * FROM verify_migrations()")
    part = report["partitioning"]
    text = f"partitioning  {part['live']}"
    if part.get("migration"):
        m = part["migration"]
        text += f"; moving to {m['target']}: {m['phase']}, {m['rows_copied']} rows copied"
    if part.get("partitions"):
        p = part["partitions"]
        text += (
            f"; {p['monthly']} months, {p['months_ahead']} ahead, "
            f"{p['rows_in_default']} rows in the default partition"
        )
    lines.append(text)
    summaries = report["summaries"]
    if summaries is None:
        lines.append("summaries     none (revision 003 is not applied)")
    else:
        age = summaries["age"] or "never refreshed"
        due = " (due for a refresh)" if summaries.get("needs_refresh") else ""
        lines.append(f"summaries     refreshed {age} ago{due}")
    alerts = report["open_alerts"]
    if alerts is None:
        lines.append("alerts        not available (revision 006 is not applied)")
    elif not alerts:
        lines.append("alerts        none open")
    else:
        lines.append(f"alerts        {len(alerts)} open:")
        lines += [f"  {a['severity']:<8} {a['alert_type']}: {a['message']}" for a in alerts]
    lines.append("jobs")
    for name, run in report["jobs"].items():
        if run is None:
            lines.append(f"  {name:<11} never run")
        else:
            lines.append(
                f"  {name:<11} {run['outcome']:<9} {str(run['started_at'])[:19].replace('T', ' ')}"
                f" via {run['via']}" + (f": {run['detail']}" if run.get("detail") else "")
            )
    return "\n".join(lines)


def dashboard(url: str) -> dict[str, Any]:
    conn = psycopg2.connect(url, application_name="flavatix-db dashboard")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if not _has_function(cur, "public.get_monitoring_dashboard()"):
                raise RuntimeError(
                    "get_monitoring_dashboard() is not in this database: alembic upgrade head"
                )
            cur.execute("SELECT public.get_monitoring_dashboard()")
            return dict((cur.fetchone() or ({},))[0])
    finally:
        conn.close()


def render_dashboard(board: dict[str, Any]) -> str:
    """Every section of the dashboard; a measurement beside its target where it has one."""
    lines = [f"flavatix-db dashboard, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]
    for section, value in board.items():
        lines.append("")
        lines.append(section.replace("_", " "))
        lines += _render_value(value, "  ")
    return "\n".join(lines)


def _render_value(value: Any, indent: str) -> list[str]:
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{indent}{key}:")
                out += _render_value(item, indent + "  ")
            else:
                out.append(f"{indent}{key}: {_scalar(item)}")
        return out
    if isinstance(value, list):
        if not value:
            return [f"{indent}(none)"]
        out = []
        for item in value[:20]:
            if isinstance(item, dict):
                out.append(
                    indent
                    + "- "
                    + ", ".join(f"{k}={_scalar(v)}" for k, v in item.items() if v is not None)
                )
            else:
                out.append(f"{indent}- {_scalar(item)}")
        if len(value) > 20:
            out.append(f"{indent}... {len(value) - 20} more")
        return out
    return [f"{indent}{_scalar(value)}"]


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return "(none)"
    return str(value)
