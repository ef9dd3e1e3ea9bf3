"""Revision 006: monitoring views, snapshots, alerts that fire on real trouble and clear, access."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from flavatix_db import migrations
from flavatix_db.cluster import EPHEMERAL_SETTINGS, Cluster
from tests.dbtools import (
    catalog_snapshot,
    column,
    connect,
    descriptors_checksum,
    execute,
    insert_descriptor,
    load_sample,
    query,
    scalar,
)
from tests.handbuilt import USER_A, call_as, load_handbuilt, sqlstate_of

# The revision 006 follows (its down_revision).
PARENT = "005"
VIEWS = (
    "v_query_performance",
    "v_slow_queries",
    "v_index_usage",
    "v_missing_indexes",
    "v_table_stats",
    "v_active_connections",
    "v_lock_conflicts",
    "v_invalid_indexes",
    "v_duplicate_indexes",
    "v_wraparound",
    "v_sequence_usage",
    "v_partition_status",
    "v_summary_age",
    "v_baseline_comparison",
)
TABLES = (
    "performance_thresholds",
    "performance_snapshots",
    "performance_snapshot_statements",
    "performance_alerts",
    "performance_baselines",
)
FUNCTIONS = (
    "capture_performance_snapshot",
    "check_performance_alerts",
    "get_monitoring_dashboard",
    "cleanup_monitoring_data",
    "flavatix_statement_stats",
    "flavatix_statement_stats_unavailable",
    "flavatix_alert_conditions",
    "flavatix_partition_status",
)
FUNCTION_CALLS = (
    "SELECT public.capture_performance_snapshot()",
    "SELECT public.check_performance_alerts()",
    "SELECT public.get_monitoring_dashboard()",
    "SELECT * FROM public.cleanup_monitoring_data(30)",
    "SELECT * FROM public.flavatix_statement_stats()",
    "SELECT public.flavatix_statement_stats_unavailable()",
    "SELECT * FROM public.flavatix_alert_conditions()",
    "SELECT * FROM public.flavatix_partition_status('public', 'flavor_descriptors')",
)
# Benchmark kind: (plan's "After" range in ms, p95 target in ms).
TARGETS = {
    "wheel_generation": (50, 100, 5),
    "descriptor_page": (10, 50, 2),
    "autocomplete": (20, 50, 3),
    "user_statistics": (10, 30, 1),
    "similarity_search": (30, 100, 5),
    "duplicate_detection": (100, 300, 20),
}


def eventually(probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll until ``probe`` is truthy: activity statistics reach shared memory with a delay."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def set_threshold(url: str, name: str, value: float) -> None:
    execute(
        url, "UPDATE public.performance_thresholds SET value = %s WHERE name = %s", (value, name)
    )
    stored = scalar(url, "SELECT value FROM public.performance_thresholds WHERE name = %s", (name,))
    assert stored is not None, f"no threshold {name}"


def check(url: str) -> int:
    return int(scalar(url, "SELECT public.check_performance_alerts()"))


def capture(url: str) -> int:
    return int(scalar(url, "SELECT public.capture_performance_snapshot()"))


def open_alerts(url: str, alert_type: str | None = None) -> dict[str, tuple[str, Any]]:
    """Open alerts by key: (severity, details), of one type or all (key prefixed by type)."""
    rows = query(
        url,
        "SELECT alert_type, alert_key, severity, details FROM public.performance_alerts "
        "WHERE resolved_at IS NULL",
    )
    if alert_type is None:
        return {f"{t}:{k}": (s, d) for t, k, s, d in rows}
    return {k: (s, d) for t, k, s, d in rows if t == alert_type}


def resolved(url: str, alert_type: str) -> list[str]:
    return column(
        url,
        "SELECT alert_key FROM public.performance_alerts "
        "WHERE alert_type = %s AND resolved_at IS NOT NULL",
        (alert_type,),
    )


def in_background(url: str, sql: str) -> threading.Thread:
    """Run ``sql`` on its own connection in a thread; errors are the test's business."""

    def run() -> None:
        with contextlib.suppress(psycopg2.Error):
            execute(url, sql)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_catalog_after_upgrade(head_db_url: str) -> None:
    url = head_db_url
    relations = dict(catalog_snapshot(url)["relations"])
    assert {name: relations.get(name) for name in VIEWS} == {name: "v" for name in VIEWS}
    assert {name: relations.get(name) for name in TABLES} == {name: "r" for name in TABLES}
    for sql in FUNCTION_CALLS:
        execute(url, sql)  # every one runs on a database at head
    configs = dict(
        query(
            url,
            "SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND proname = ANY(%s)",
            (list(FUNCTIONS),),
        )
    )
    assert configs == {name: ['search_path=""'] for name in FUNCTIONS}
    # No alert message uses a format() specifier PostgreSQL lacks.
    sources = column(url, "SELECT prosrc FROM pg_proc WHERE proname = 'flavatix_alert_conditions'")
    assert "%d" not in sources[0] and "%f" not in sources[0]
    ext = query(
        url,
        "SELECT extnamespace::regnamespace::text, obj_description(oid, 'pg_extension') "
        "FROM pg_extension WHERE extname = 'pg_stat_statements'",
    )
    assert ext == [("public", "pg_stat_statements (created by flavatix-db revision 006)")]
    thresholds = dict(query(url, "SELECT name, value FROM public.performance_thresholds"))
    assert thresholds["slow_query_mean_ms"] == 20
    assert thresholds["slow_query_min_calls"] == 100
    assert thresholds["cache_hit_ratio_min"] == Decimal("0.99")
    assert thresholds["long_query_seconds"] == 60
    assert thresholds["wraparound_warning_remaining"] == 1_500_000_000
    baselines = {
        r[0]: tuple(int(v) for v in r[1:])
        for r in query(
            url,
            "SELECT query_type, plan_after_min_ms, plan_after_max_ms, p95_target_ms "
            "FROM public.performance_baselines",
        )
    }
    assert baselines == TARGETS
    # Internal tables: row level security with a policy that admits no row.
    rls = query(
        url,
        "SELECT c.relname, c.relrowsecurity, p.polname, pg_get_expr(p.polqual, p.polrelid) "
        "FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid "
        "WHERE c.relname = ANY(%s) ORDER BY 1",
        (list(TABLES),),
    )
    assert rls == [(name, True, "no_api_access", "false") for name in sorted(TABLES)]


def test_views_describe_the_database(head_db_url: str) -> None:
    url = head_db_url
    execute(
        url,
        "CREATE TABLE public.probe (id integer PRIMARY KEY, v integer); "
        "INSERT INTO public.probe SELECT g, g FROM generate_series(1, 300) g; "
        "CREATE INDEX probe_v ON public.probe (v); CREATE INDEX probe_v_again ON public.probe (v); "
        "ANALYZE public.probe",
    )
    for _ in range(3):
        execute(url, "SELECT count(*) FROM public.probe WHERE v + 0 > 5")  # sequential scans
    set_threshold(url, "missing_index_min_rows", 100)
    assert eventually(
        lambda: scalar(
            url, "SELECT seq_scan >= 3 FROM public.v_missing_indexes WHERE table_name = 'probe'"
        )
    )
    usage = {
        r[0]: r[1:]
        for r in query(
            url,
            "SELECT index_name, usage_category, backs_constraint, is_unique "
            "FROM public.v_index_usage WHERE table_name = 'probe'",
        )
    }
    assert usage["probe_pkey"] == ("UNUSED", "probe_pkey", True)
    assert usage["probe_v"] == ("UNUSED", None, False)
    duplicates = query(url, "SELECT index_name, covered_by, kind FROM public.v_duplicate_indexes")
    assert ("probe_v_again", "probe_v", "identical") in duplicates
    assert len({r[0] for r in duplicates}) == len(duplicates)  # one row per redundant index
    # The baseline's (user_id) index leads the (user_id, descriptor_type, created_at) one.
    assert ("idx_flavor_descriptors_user_id", "prefix") in {(r[0], r[2]) for r in duplicates}
    assert eventually(
        lambda: scalar(
            url, "SELECT n_live_tup = 300 FROM public.v_table_stats WHERE table_name = 'probe'"
        )
    )
    assert (
        scalar(url, "SELECT count(*) FROM public.v_active_connections WHERE is_this_session") == 1
    )
    wrap = query(
        url,
        "SELECT transactions_left > 2000000000, warning_below FROM public.v_wraparound "
        "WHERE database_name = current_database()",
    )
    assert wrap == [(True, 1_500_000_000)]
    execute(url, "CREATE SEQUENCE public.probe_seq AS smallint MAXVALUE 100")
    execute(url, "SELECT setval('public.probe_seq', 80)")
    assert scalar(
        url, "SELECT used_ratio FROM public.v_sequence_usage WHERE sequence_name = 'probe_seq'"
    ) == Decimal("0.8")
    # An empty table is partitioned by 005's upgrade: this month, three ahead, the default.
    assert query(url, "SELECT is_partitioned, partition_count FROM public.v_partition_status") == [
        (True, 5)
    ]


def test_slow_statements_fire_over_the_interval_and_clear(head_db_url: str) -> None:
    url = head_db_url
    set_threshold(url, "slow_query_mean_ms", 40)
    set_threshold(url, "slow_query_min_calls", 3)
    capture(url)
    with connect(url) as conn, conn.cursor() as cur:
        for _ in range(4):
            cur.execute("SELECT pg_sleep(0.05)")
    assert (
        scalar(url, "SELECT calls FROM public.v_slow_queries WHERE query LIKE %s", ("%pg_sleep%",))
        == 4
    )
    assert check(url) == 1
    (key, (severity, details)), *others = open_alerts(url, "slow_query").items()
    assert not others
    assert severity == "WARNING" and details["calls"] == 4 and "pg_sleep" in details["query"]
    assert details["mean_ms"] >= 40 and details["threshold_mean_ms"] == 40
    assert check(url) == 0  # still open, not raised twice
    assert list(open_alerts(url, "slow_query")) == [key]
    # A new interval with two more slow calls: below the minimum of 3, so it clears.
    capture(url)
    with connect(url) as conn, conn.cursor() as cur:
        for _ in range(2):
            cur.execute("SELECT pg_sleep(0.05)")
    assert check(url) == 0
    assert open_alerts(url, "slow_query") == {}
    assert resolved(url, "slow_query") == [key]
    # The cumulative view still lists it: the alert judged only the interval.
    assert (
        scalar(url, "SELECT calls FROM public.v_slow_queries WHERE query LIKE %s", ("%pg_sleep%",))
        == 6
    )


def test_dead_tuples_fire_and_clear(head_db_url: str) -> None:
    url = head_db_url
    set_threshold(url, "dead_tuples_min", 1000)
    execute(
        url,
        "CREATE TABLE public.churn (id integer PRIMARY KEY, v integer) "
        "WITH (autovacuum_enabled = false); "
        "INSERT INTO public.churn SELECT g, 0 FROM generate_series(1, 1000) g",
    )
    for _ in range(2):
        execute(url, "UPDATE public.churn SET v = v + 1")
    assert eventually(
        lambda: scalar(
            url, "SELECT n_dead_tup >= 2000 FROM pg_stat_user_tables WHERE relname = 'churn'"
        )
    )
    assert check(url) == 1
    severity, details = open_alerts(url, "dead_tuples")["public.churn"]
    assert severity == "WARNING" and details["dead_tuples"] >= 2000
    execute(url, "VACUUM public.churn")
    assert eventually(
        lambda: scalar(
            url, "SELECT n_dead_tup = 0 FROM pg_stat_user_tables WHERE relname = 'churn'"
        )
    )
    assert check(url) == 0
    assert open_alerts(url, "dead_tuples") == {}
    assert resolved(url, "dead_tuples") == ["public.churn"]


def test_session_idle_in_transaction_fires_and_clears(head_db_url: str) -> None:
    url = head_db_url
    set_threshold(url, "idle_in_transaction_seconds", 1)
    with connect(url, autocommit=False) as idle:
        with idle.cursor() as cur:
            cur.execute("SELECT 1")
        time.sleep(2)
        assert check(url) == 1
        (severity, details), *others = open_alerts(url, "idle_in_transaction").values()
        assert not others
        assert details["pid"] == idle.get_backend_pid() and severity == "WARNING"
        assert scalar(
            url,
            "SELECT idle_in_transaction_for > interval '1 second' FROM public.v_active_connections "
            "WHERE pid = %s",
            (idle.get_backend_pid(),),
        )
        idle.commit()
        assert check(url) == 0
        assert open_alerts(url, "idle_in_transaction") == {}


def test_blocking_lock_fires_and_clears(head_db_url: str) -> None:
    url = head_db_url
    set_threshold(url, "lock_wait_seconds", 1)
    execute(url, "CREATE TABLE public.locked (id integer PRIMARY KEY)")
    with connect(url, autocommit=False) as holder:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE")
        waiter = in_background(url, "SELECT count(*) FROM public.locked")
        assert eventually(
            lambda: scalar(
                url,
                "SELECT count(*) FROM public.v_lock_conflicts WHERE blocking_pid = %s",
                (holder.get_backend_pid(),),
            )
        )
        conflict = query(
            url,
            "SELECT blocked_query, relation, wanted_mode, blocking_pid "
            "FROM public.v_lock_conflicts",
        )
        assert conflict == [
            (
                "SELECT count(*) FROM public.locked",
                "locked",
                "AccessShareLock",
                holder.get_backend_pid(),
            )
        ]
        time.sleep(1.2)
        assert check(url) == 1
        (_, details), *others = open_alerts(url, "lock_wait").values()
        assert not others
        assert details["blocked_by"] == [holder.get_backend_pid()]
        assert details["relation"] == "public.locked"
        holder.rollback()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert check(url) == 0
    assert open_alerts(url, "lock_wait") == {}
    assert len(resolved(url, "lock_wait")) == 1


def test_long_running_statement_fires_and_clears(head_db_url: str) -> None:
    url = head_db_url
    set_threshold(url, "long_query_seconds", 1)
    sleeper = in_background(url, "SELECT pg_sleep(5)")
    assert eventually(
        lambda: scalar(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
            ("%pg_sleep(5)",),
        )
    )
    time.sleep(1.5)
    assert check(url) == 1
    (_, details), *others = open_alerts(url, "long_running_query").values()
    assert not others and "pg_sleep(5)" in details["query"]
    dashboard = scalar(url, "SELECT public.get_monitoring_dashboard()")
    assert [q["threshold_seconds"] for q in dashboard["long_running_queries"]] == [1]
    sleeper.join(timeout=10)
    assert check(url) == 0
    assert open_alerts(url, "long_running_query") == {}


def test_invalid_index_from_a_failed_concurrent_build_fires_and_clears(head_db_url: str) -> None:
    url = head_db_url
    execute(url, "CREATE TABLE public.dupes (v integer); INSERT INTO public.dupes VALUES (1), (1)")
    with pytest.raises(psycopg2.errors.UniqueViolation):
        execute(url, "CREATE UNIQUE INDEX CONCURRENTLY dupes_v ON public.dupes (v)")
    assert query(url, "SELECT index_name, being_built FROM public.v_invalid_indexes") == [
        ("dupes_v", False)
    ]
    assert check(url) == 1
    _, details = open_alerts(url, "invalid_index")["public.dupes_v"]
    assert "DROP INDEX CONCURRENTLY public.dupes_v" in details["fix"]
    execute(url, "DROP INDEX CONCURRENTLY public.dupes_v")
    assert check(url) == 0
    assert resolved(url, "invalid_index") == ["public.dupes_v"]


def test_stale_summaries_fire_and_clear(head_db_url: str) -> None:
    url = head_db_url
    execute(url, "UPDATE public.mv_refresh_log SET last_refreshed_at = now() - interval '2 hours'")
    # Old summaries with nothing changed since are not stale.
    assert scalar(url, "SELECT bool_or(is_stale) FROM public.v_summary_age") is False
    assert check(url) == 0
    insert_descriptor(url)
    assert scalar(url, "SELECT bool_and(is_stale) FROM public.v_summary_age") is True
    assert check(url) == 1
    _, details = open_alerts(url, "stale_summaries")["summaries"]
    assert details["records_since_refresh"] == 1 and details["threshold_minutes"] == 60
    execute(url, "SELECT public.refresh_descriptor_views()")
    assert check(url) == 0
    assert resolved(url, "stale_summaries") == ["summaries"]


def test_threshold_rows_drive_server_wide_alerts(head_db_url: str) -> None:
    url = head_db_url
    # Connections: WARNING, then CRITICAL on the same open alert, then cleared.
    set_threshold(url, "connections_warning_ratio", 0.001)
    assert check(url) == 1
    assert open_alerts(url, "connections")["server"][0] == "WARNING"
    set_threshold(url, "connections_critical_ratio", 0.001)
    assert check(url) == 0
    assert open_alerts(url, "connections")["server"][0] == "CRITICAL"
    set_threshold(url, "connections_warning_ratio", 0.8)
    set_threshold(url, "connections_critical_ratio", 0.95)
    assert check(url) == 0 and open_alerts(url, "connections") == {}
    # Wraparound: every database has fewer than 2^31 IDs left.
    set_threshold(url, "wraparound_warning_remaining", 2147483647)
    assert check(url) >= 1
    assert open_alerts(url, "wraparound")
    set_threshold(url, "wraparound_warning_remaining", 1_500_000_000)
    assert check(url) == 0 and open_alerts(url, "wraparound") == {}
    # Cache hit ratio: no reads can reach 101 %.
    set_threshold(url, "cache_hit_min_blocks", 1)
    set_threshold(url, "cache_hit_ratio_min", 1.01)
    assert check(url) == 1
    assert open_alerts(url, "low_cache_hit")["database"][1]["threshold"] == 1.01
    set_threshold(url, "cache_hit_ratio_min", 0.99)
    set_threshold(url, "cache_hit_min_blocks", 10000)
    assert check(url) == 0 and open_alerts(url, "low_cache_hit") == {}
    # A sequence running out.
    execute(url, "CREATE SEQUENCE public.tickets MAXVALUE 100; SELECT setval('public.tickets', 80)")
    assert check(url) == 1
    assert open_alerts(url, "sequence_exhaustion")["public.tickets"][0] == "WARNING"
    execute(url, "SELECT setval('public.tickets', 95)")
    assert check(url) == 0
    assert open_alerts(url, "sequence_exhaustion")["public.tickets"][0] == "CRITICAL"
    execute(url, "DROP SEQUENCE public.tickets")
    assert check(url) == 0 and open_alerts(url) == {}


def test_partitions_are_read_from_the_catalog_whatever_the_table_is(head_db_url: str) -> None:
    url = head_db_url
    assert check(url) == 0
    # Stand in for revision 005's switch: a partitioned table takes the name.
    execute(
        url,
        """
        ALTER TABLE public.flavor_descriptors RENAME TO flavor_descriptors_plain;
        CREATE TABLE public.flavor_descriptors (id uuid, created_at timestamptz)
            PARTITION BY RANGE (created_at);
        CREATE TABLE public.flavor_descriptors_default
            PARTITION OF public.flavor_descriptors DEFAULT;
        DO $$
        DECLARE
            m timestamptz := date_trunc('month', now());
        BEGIN
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.flavor_descriptors '
                           'FOR VALUES FROM (%L) TO (%L)',
                           'flavor_descriptors_p' || to_char(m, 'YYYY_MM'),
                           m, m + interval '1 month');
        END;
        $$;
        INSERT INTO public.flavor_descriptors VALUES
            (gen_random_uuid(), now()), (gen_random_uuid(), NULL),
            (gen_random_uuid(), date_trunc('month', now()) + interval '1 month 3 days');
        """,
    )
    status = query(
        url,
        "SELECT is_partitioned, partition_count, default_partition, default_partition_rows, "
        "covers_now, months_ahead FROM public.v_partition_status",
    )
    # The row without a date belongs in the default partition; the one 40 days ahead does not.
    assert status == [(True, 2, "public.flavor_descriptors_default", 1, True, 0)]
    assert check(url) == 2
    assert open_alerts(url, "partition_coverage")["public.flavor_descriptors"][0] == "WARNING"
    partitions = scalar(url, "SELECT public.get_monitoring_dashboard() -> 'partitions'")
    assert (partitions["is_partitioned"], partitions["default_partition_rows"]) == (True, 1)
    assert (partitions["months_ahead"], partitions["min_months_ahead"]) == (0, 1)
    assert open_alerts(url, "default_partition_rows")["public.flavor_descriptors_default"]
    # Maintenance: next month's partition, with the misplaced row moved into it.
    execute(
        url,
        """
        DO $$
        DECLARE
            m timestamptz := date_trunc('month', now()) + interval '1 month';
        BEGIN
            CREATE TEMP TABLE moved AS
                SELECT * FROM public.flavor_descriptors_default WHERE created_at IS NOT NULL;
            DELETE FROM public.flavor_descriptors_default WHERE created_at IS NOT NULL;
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.flavor_descriptors '
                           'FOR VALUES FROM (%L) TO (%L)',
                           'flavor_descriptors_p' || to_char(m, 'YYYY_MM'),
                           m, m + interval '1 month');
            INSERT INTO public.flavor_descriptors SELECT * FROM moved;
        END;
        $$;
        """,
    )
    assert query(
        url, "SELECT default_partition_rows, months_ahead FROM public.v_partition_status"
    ) == [(0, 1)]
    assert check(url) == 0
    assert open_alerts(url) == {}
    # A partitioned table none of whose partitions covers now is critical.
    execute(
        url,
        """
        DO $$
        BEGIN
            EXECUTE format('ALTER TABLE public.flavor_descriptors DETACH PARTITION public.%I',
                           'flavor_descriptors_p' || to_char(now(), 'YYYY_MM'));
        END;
        $$;
        """,
    )
    assert scalar(url, "SELECT covers_now FROM public.v_partition_status") is False
    assert check(url) == 1
    assert open_alerts(url, "partition_coverage")["public.flavor_descriptors"][0] == "CRITICAL"


def test_healthy_database_raises_no_alert(head_db_url: str) -> None:
    url = head_db_url
    load_sample(url, 2000)
    load_handbuilt(url)
    # The daily partition maintenance has run: no row waits in the default partition.
    execute(url, "SELECT public.run_partition_maintenance()")
    execute(url, "SELECT public.refresh_descriptor_views()")
    execute(url, "VACUUM ANALYZE")
    capture(url)
    with connect(url) as conn, conn.cursor() as cur:
        for _ in range(20):
            cur.execute(
                "SELECT * FROM public.get_descriptors_paginated(%s, p_limit => 5)", (USER_A,)
            )
            cur.execute("SELECT public.get_user_descriptor_stats(%s)", (USER_A,))
            cur.execute("SELECT * FROM public.autocomplete_descriptors('che')")
            cur.execute("SELECT * FROM public.find_similar_descriptors('vanila')")
            cur.execute("SELECT public.generate_wheel_data_optimized(%s)", (USER_A,))
    insert_descriptor(url, descriptor_text="fresh")
    assert check(url) == 0
    assert open_alerts(url) == {}
    assert scalar(url, "SELECT count(*) FROM public.performance_alerts") == 0
    dashboard = scalar(url, "SELECT public.get_monitoring_dashboard()")
    assert dashboard["statement_statistics"] == {
        "available": True,
        "reason": None,
        "extension_schema": "public",
    }
    assert dashboard["open_alerts"] == [] and dashboard["invalid_indexes"] == []
    assert dashboard["partitions"]["is_partitioned"] is True
    assert dashboard["partitions"]["default_partition_rows"] == 0
    assert dashboard["summaries"]["stale"] is False
    assert dashboard["connections"]["warning_ratio"] == 0.8
    assert dashboard["top_queries"], "the workload shows among the statements"
    # Targets beside measurements, for every benchmark kind.
    baselines = {b["query_type"]: b for b in dashboard["baselines"]}
    assert set(baselines) == set(TARGETS)
    for kind, (low, high, p95) in TARGETS.items():
        entry = baselines[kind]
        assert (entry["plan_after_min_ms"], entry["plan_after_max_ms"]) == (low, high)
        assert entry["p95_target_ms"] == p95
    page = baselines["descriptor_page"]
    assert page["calls"] == 20 and page["mean_ms"] > 0
    assert page["mean_ms"] <= page["p95_estimate_ms"] <= page["max_ms"]
    assert page["within_plan_after"] is True
    assert baselines["wheel_generation"]["calls"] == 20
    assert baselines["duplicate_detection"]["calls"] == 0
    assert baselines["duplicate_detection"]["within_p95_target"] is None


def test_cleanup_keeps_open_alerts_and_the_newest_snapshot(head_db_url: str) -> None:
    url = head_db_url
    execute(
        url,
        """
        INSERT INTO public.performance_snapshots
            (captured_at, statements_available, connections, active_connections,
             idle_in_transaction, max_connections, blks_hit, blks_read, xact_commit,
             xact_rollback, deadlocks, temp_bytes, database_size_bytes, dead_tuples,
             oldest_xid_age)
        SELECT now() - d * interval '1 day', true, 1, 1, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM unnest(ARRAY[50, 40]) d;
        INSERT INTO public.performance_alerts (alert_type, alert_key, severity, message,
                                               raised_at, resolved_at)
        VALUES ('dead_tuples', 'old', 'WARNING', 'old', now() - interval '60 days',
                now() - interval '59 days'),
               ('dead_tuples', 'still open', 'WARNING', 'open', now() - interval '60 days',
                NULL);
        """,
    )
    execute(url, "CREATE TABLE public.quiet (x integer)")
    execute(url, "SELECT count(*) FROM public.quiet")
    snapshot = capture(url)
    latest = capture(url)
    # A statement that did not run between two snapshots is stored by the first only.
    stored = column(
        url,
        "SELECT p.snapshot_id FROM public.performance_snapshot_statements p "
        "JOIN public.v_query_performance q USING (queryid) "
        "WHERE q.query = 'SELECT count(*) FROM public.quiet' ORDER BY 1",
    )
    assert stored == [snapshot]
    assert query(url, "SELECT * FROM public.cleanup_monitoring_data(30)") == [(2, 1)]
    assert column(url, "SELECT id FROM public.performance_snapshots ORDER BY id") == [
        snapshot,
        latest,
    ]
    assert column(url, "SELECT alert_key FROM public.performance_alerts") == ["still open"]
    # Only old snapshots left: the newest stays, the next check measures from it.
    execute(url, "UPDATE public.performance_snapshots SET captured_at = now() - interval '90 days'")
    assert query(url, "SELECT * FROM public.cleanup_monitoring_data(30)") == [(1, 0)]
    assert column(url, "SELECT id FROM public.performance_snapshots") == [latest]
    assert sqlstate_of(url, "SELECT * FROM public.cleanup_monitoring_data(NULL)") == "22004"
    assert sqlstate_of(url, "SELECT * FROM public.cleanup_monitoring_data(0)") == "22023"


def test_without_the_extension_nothing_fails_and_statements_stay_silent(head_db_url: str) -> None:
    url = head_db_url
    execute(url, "DROP EXTENSION pg_stat_statements")
    set_threshold(url, "slow_query_mean_ms", 0)
    set_threshold(url, "slow_query_min_calls", 1)
    assert scalar(url, "SELECT count(*) FROM public.v_query_performance") == 0
    assert scalar(url, "SELECT count(*) FROM public.v_slow_queries") == 0
    assert scalar(url, "SELECT sum(calls) FROM public.v_baseline_comparison") == 0
    snapshot = capture(url)
    assert query(
        url,
        "SELECT statements_available, statements_unavailable_reason LIKE '%%not installed%%' "
        "FROM public.performance_snapshots WHERE id = %s",
        (snapshot,),
    ) == [(False, True)]
    assert check(url) == 0
    statements = scalar(url, "SELECT public.get_monitoring_dashboard() -> 'statement_statistics'")
    assert statements["available"] is False
    assert "CREATE EXTENSION pg_stat_statements" in statements["reason"]


@pytest.fixture(scope="module")
def unloaded_server_url() -> Iterator[str]:
    """A second private server that does not preload pg_stat_statements, migrated to head.

    Its configuration still names pg_stat_statements.max, which without the
    library is only a text placeholder: that must not pass for the library.
    """
    home = Path(tempfile.mkdtemp(prefix="flavatix-no-preload-"))
    cluster = Cluster(home, database="flavatix")
    try:
        cluster.start(
            settings={
                **EPHEMERAL_SETTINGS,
                "shared_buffers": "'32MB'",
                "shared_preload_libraries": "''",
                "pg_stat_statements.max": "1000",
            }
        )
        url = cluster.url()
        migrations.upgrade(url, "head")
        yield url
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_server_without_the_library_preloaded(unloaded_server_url: str) -> None:
    url = unloaded_server_url
    assert scalar(url, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")
    with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState):
        execute(url, "SELECT * FROM public.pg_stat_statements")  # what the views avoid
    set_threshold(url, "slow_query_mean_ms", 0)
    set_threshold(url, "slow_query_min_calls", 1)
    for view in VIEWS:
        execute(url, f"SELECT * FROM public.{view}")
    assert scalar(url, "SELECT count(*) FROM public.v_query_performance") == 0
    assert scalar(url, "SELECT count(*) FROM public.v_slow_queries") == 0
    capture(url)
    assert check(url) == 0
    assert open_alerts(url) == {}
    statements = scalar(url, "SELECT public.get_monitoring_dashboard() -> 'statement_statistics'")
    assert statements["available"] is False
    assert "shared_preload_libraries" in statements["reason"]
    # Other alerts still work there.
    set_threshold(url, "connections_warning_ratio", 0.001)
    assert check(url) == 1
    set_threshold(url, "connections_warning_ratio", 0.8)
    assert check(url) == 0


def test_upgrade_and_downgrade_on_a_populated_database(baseline_db_url: str) -> None:
    url = baseline_db_url
    load_sample(url, 500)
    migrations.upgrade(url, PARENT)
    before_catalog = catalog_snapshot(url)
    before_rows = descriptors_checksum(url)
    migrations.upgrade(url, "006")
    # Summaries never refreshed since the upgrade would rightly raise stale_summaries.
    execute(url, "SELECT public.refresh_descriptor_views()")
    # The DDL that created the functions is no call of them; a PostgREST-style call is.
    assert scalar(url, "SELECT sum(calls) FROM public.v_baseline_comparison") == 0
    user = scalar(url, "SELECT user_id FROM public.flavor_descriptors LIMIT 1")
    execute(
        url,
        'WITH pgrst_source AS (SELECT "public"."get_descriptors_paginated"("p_user_id" := %s)) '
        "SELECT count(*) FROM pgrst_source",
        (user,),
    )
    assert dict(query(url, "SELECT query_type, calls FROM public.v_baseline_comparison")) == {
        **{kind: 0 for kind in TARGETS},
        "descriptor_page": 1,
    }
    capture(url)
    set_threshold(url, "connections_warning_ratio", 0.001)
    assert check(url) == 1
    assert descriptors_checksum(url) == before_rows
    migrations.downgrade(url, PARENT)
    assert descriptors_checksum(url) == before_rows
    assert catalog_snapshot(url) == before_catalog  # pg_stat_statements went with it
    # Again, with the extension already there: the downgrade keeps what it did not create.
    execute(url, "CREATE EXTENSION pg_stat_statements")
    migrations.upgrade(url, "006")
    assert scalar(url, "SELECT public.capture_performance_snapshot()") == 1
    migrations.downgrade(url, PARENT)
    assert column(url, "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'") == [
        "pg_stat_statements"
    ]
    assert descriptors_checksum(url) == before_rows


def test_a_role_that_may_not_create_the_extension_still_gets_the_rest(
    baseline_db_url: str,
) -> None:
    url = baseline_db_url
    migrations.upgrade(url, PARENT)
    execute(
        url,
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_plain_migrator') THEN
                CREATE ROLE fx_plain_migrator LOGIN;
            END IF;
        END;
        $$;
        GRANT CREATE ON SCHEMA public TO fx_plain_migrator;
        -- Like Supabase's postgres role, it may create schemas (006 makes flavatix_ops).
        DO $grant$ BEGIN
            EXECUTE format('GRANT CREATE ON DATABASE %I TO fx_plain_migrator', current_database());
        END $grant$;
        GRANT USAGE ON SCHEMA flavatix_migrations TO fx_plain_migrator;
        GRANT ALL ON flavatix_migrations.alembic_version TO fx_plain_migrator;
        GRANT ALL ON flavatix_migrations.migration_history TO fx_plain_migrator;
        -- What 005 made, as if the same role had run it.
        GRANT USAGE ON SCHEMA flavatix_partitions TO fx_plain_migrator;
        GRANT SELECT ON ALL TABLES IN SCHEMA flavatix_partitions TO fx_plain_migrator;
        -- What 003 made, as if the same role had run it.
        GRANT SELECT ON public.mv_refresh_log, public.mv_refresh_changes TO fx_plain_migrator;
        """,
    )
    plain = url.replace("postgresql://postgres@", "postgresql://fx_plain_migrator@")
    assert plain != url
    migrations.upgrade(plain, "006")
    assert (
        scalar(url, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == 0
    )
    assert scalar(plain, "SELECT public.capture_performance_snapshot()") == 1
    assert scalar(plain, "SELECT public.check_performance_alerts()") == 0
    statements = scalar(plain, "SELECT public.get_monitoring_dashboard() -> 'statement_statistics'")
    assert statements["available"] is False and "not installed" in statements["reason"]


def test_supabase_extension_schema_and_linter(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    assert (
        scalar(
            url,
            "SELECT extnamespace::regnamespace::text FROM pg_extension "
            "WHERE extname = 'pg_stat_statements'",
        )
        == "extensions"
    )
    assert scalar(url, "SELECT count(*) FROM public.v_query_performance") > 0
    # What Supabase's linter looks for, on this revision's objects.
    flagged = query(
        url,
        """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%(names)s)
          AND ((c.relkind = 'r' AND (NOT c.relrowsecurity
                                     OR NOT EXISTS (SELECT FROM pg_policy p
                                                    WHERE p.polrelid = c.oid)))
               OR has_table_privilege('anon', c.oid, 'SELECT')
               OR has_table_privilege('authenticated', c.oid, 'SELECT'))
        """,
        {"names": [*TABLES, *VIEWS]},
    )
    assert flagged == []


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_nothing_is_readable_or_executable_by_api_roles(
    supabase_head_db_url: str, role: str
) -> None:
    url = supabase_head_db_url
    for relation in (*VIEWS, *TABLES):
        assert sqlstate_of(url, f"SELECT * FROM public.{relation}", role=role, sub=USER_A) == (
            "42501"
        ), relation
    for sql in (
        *FUNCTION_CALLS,
        "UPDATE public.performance_thresholds SET value = 0",
        "INSERT INTO public.performance_alerts (alert_type, alert_key, severity, message) "
        "VALUES ('x', 'x', 'INFO', 'x')",
    ):
        assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501", sql


def test_service_role_runs_the_monitoring(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    snapshot = call_as(url, "SELECT public.capture_performance_snapshot()", role="service_role")
    assert snapshot[0][0] >= 1
    assert call_as(url, "SELECT public.check_performance_alerts()", role="service_role") == [(0,)]
