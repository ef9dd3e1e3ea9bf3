"""`flavatix-db maintain`, `schedule`, `status` and `dashboard` against the real server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from flavatix_db import cli
from tests.dbtools import connect, execute, load_sample, query, scalar

JOBS = ["alerts", "cleanup", "partitions", "refresh", "snapshot"]
FURTHEST = "SELECT max(partition_name) FROM flavatix_partitions.months('public.flavor_descriptors')"


def run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def busy_head(head_db_url: str) -> str:
    load_sample(head_db_url, 500)
    return head_db_url


def test_maintain_once_runs_every_job_and_records_it(
    busy_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = busy_head
    # The furthest month ahead is gone: the partition job must make it again.
    furthest = scalar(url, FURTHEST)
    execute(url, "SELECT public.detach_partition(%s)", (furthest,))
    execute(url, f"DROP TABLE flavatix_partitions.{furthest}")
    execute(url, "UPDATE public.mv_refresh_log SET last_refreshed_at = now() - interval '1 day'")
    code, out, err = run(capsys, url, "maintain", "--once", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert sorted(r["job"] for r in report["jobs"]) == JOBS
    assert report["failed"] == []
    assert all(r["outcome"] == "ok" for r in report["jobs"]), report
    # One log line per job, on stderr.
    assert len([line for line in err.splitlines() if line.strip()]) == 5
    assert scalar(url, "SELECT count(*) FROM public.performance_snapshots") == 1
    assert scalar(
        url,
        "SELECT min(last_refreshed_at) > now() - interval '1 minute' FROM public.mv_refresh_log",
    )
    assert scalar(url, FURTHEST) == furthest
    runs = query(
        url,
        "SELECT job, outcome, finished_at >= started_at FROM flavatix_ops.job_runs ORDER BY job",
    )
    assert runs == [(job, "ok", True) for job in JOBS]


def test_a_failing_job_fails_the_run_but_not_the_others(
    busy_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = busy_head
    execute(url, "ALTER FUNCTION public.cleanup_monitoring_data(integer) RENAME TO broken")
    code, out, err = run(capsys, url, "maintain", "--once", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["failed"] == ["cleanup"]
    outcomes = {r["job"]: r["outcome"] for r in report["jobs"]}
    assert outcomes == {
        "snapshot": "ok",
        "alerts": "ok",
        "refresh": "ok",
        "partitions": "ok",
        "cleanup": "failed",
    }
    assert "cleanup_monitoring_data" in err
    error = scalar(url, "SELECT error FROM flavatix_ops.job_runs WHERE job = 'cleanup'")
    assert "does not exist" in error


def test_a_job_already_running_elsewhere_is_skipped(
    busy_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from flavatix_db import maintenance

    url = busy_head
    with connect(url) as holder, holder.cursor() as cur:
        cur.execute(
            "SELECT pg_advisory_lock(%s, %s)",
            (maintenance.JOB_LOCK_SPACE, maintenance._lock_key("snapshot")),
        )
        code, out, _ = run(capsys, url, "maintain", "--once", "--job", "snapshot", "--json")
    assert code == 0
    (only,) = json.loads(out)["jobs"]
    assert (only["outcome"], only["detail"]) == (
        "skipped",
        "another maintain process is running it",
    )
    assert scalar(url, "SELECT count(*) FROM public.performance_snapshots") == 0


def test_maintain_loop_runs_due_jobs_then_stops(busy_head: str) -> None:
    from flavatix_db import maintenance

    url = busy_head
    ticks = iter(range(3))
    failures = maintenance.run_loop(
        url, should_stop=lambda: next(ticks, None) is None, tick_seconds=0.01
    )
    assert failures == 0
    # Everything was due once; on the next tick nothing was due again.
    assert scalar(url, "SELECT count(*) FROM flavatix_ops.job_runs") == 5


def cron(sql: str, params: Any = None) -> list[Any]:
    return query(CRON_URL[0], sql, params)


CRON_URL: list[str] = []


@pytest.fixture
def cron_db(head_db_url: str) -> str:
    CRON_URL[:] = [head_db_url.rsplit("/", 1)[0] + "/postgres"]
    execute(CRON_URL[0], "CREATE EXTENSION IF NOT EXISTS pg_cron")
    return head_db_url


def test_schedule_install_twice_list_and_remove(
    cron_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cron_db
    dbname = url.rsplit("/", 1)[1]
    cron("SELECT cron.schedule('someone-elses-job', '0 0 * * *', 'SELECT 1')")
    try:
        assert run(capsys, url, "schedule", "install")[0] == 0
        first = cron(
            "SELECT jobname, schedule, command, database FROM cron.job "
            "WHERE jobname LIKE 'flavatix-%%' ORDER BY 1"
        )
        assert run(capsys, url, "schedule", "install")[0] == 0
        again = cron(
            "SELECT jobname, schedule, command, database FROM cron.job "
            "WHERE jobname LIKE 'flavatix-%%' ORDER BY 1"
        )
        assert first == again
        assert [row[0] for row in first] == [f"flavatix-{job}" for job in JOBS]
        assert {row[3] for row in first} == {dbname}
        code, out, _ = run(capsys, url, "schedule", "list", "--json")
        assert code == 0
        listed = json.loads(out)
        assert [job["name"] for job in listed] == [row[0] for row in first]
        assert run(capsys, url, "schedule", "remove")[0] == 0
        assert cron("SELECT jobname FROM cron.job ORDER BY 1") == [("someone-elses-job",)]
    finally:
        cron("SELECT cron.unschedule(jobid) FROM cron.job")


def test_a_scheduled_job_really_runs(cron_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = cron_db
    try:
        assert run(capsys, url, "schedule", "install")[0] == 0
        # The finest pg_cron 1.4 schedule: every minute.
        cron(
            "SELECT cron.alter_job(jobid, schedule => '* * * * *') FROM cron.job "
            "WHERE jobname = 'flavatix-snapshot'"
        )
        deadline = time.monotonic() + 130
        while time.monotonic() < deadline:
            if scalar(url, "SELECT count(*) FROM public.performance_snapshots"):
                break
            time.sleep(2)
        details = cron(
            "SELECT d.status, d.return_message FROM cron.job_run_details d "
            "JOIN cron.job j USING (jobid) WHERE j.jobname = 'flavatix-snapshot'"
        )
        assert scalar(url, "SELECT count(*) FROM public.performance_snapshots") >= 1, details
        _, out, _ = run(capsys, url, "status", "--json")
        assert json.loads(out)["jobs"]["snapshot"]["via"] == "pg_cron"
    finally:
        cron("SELECT cron.unschedule(jobid) FROM cron.job")


def test_schedule_without_pg_cron_says_how_to_get_it(
    head_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(head_db_url.rsplit("/", 1)[0] + "/postgres", "DROP EXTENSION IF EXISTS pg_cron")
    code, _, err = run(capsys, head_db_url, "schedule", "list")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "apt-get install postgresql-15-cron" in err


def test_status_and_dashboard(busy_head: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = busy_head
    assert run(capsys, url, "maintain", "--once")[0] == 0
    code, out, _ = run(capsys, url, "status", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["current_revision"] == report["head_revision"]
    assert report["partitioning"]["live"] == "partitioned"
    assert report["open_alerts"] == []
    assert {name for name, last in report["jobs"].items() if last} == set(JOBS)
    code, out, _ = run(capsys, url, "status")
    assert code == 0
    assert out.startswith(f"revision      {report['head_revision']} (head ")
    for label in (
        "partitioning  partitioned",
        "summaries     refreshed",
        "alerts        none open",
    ):
        assert label in out
    code, out, _ = run(capsys, url, "dashboard")
    assert code == 0
    assert "baselines" in out and "p95_target_ms" in out
    code, out, _ = run(capsys, url, "dashboard", "--json")
    assert "baselines" in json.loads(out)
