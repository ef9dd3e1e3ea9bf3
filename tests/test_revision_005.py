"""Revision 005: the partitioned table, its helpers, and the online switch-over both ways."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest
from alembic.script import ScriptDirectory

from flavatix_db import migrations, partitioning
from tests.dbtools import (
    PROJECT_ROOT,
    catalog_snapshot,
    column,
    connect,
    descriptors_checksum,
    execute,
    insert_descriptor,
    load_sample,
    query,
    run_alembic,
    scalar,
)
from tests.handbuilt import (
    USER_A,
    USER_B,
    call_as,
    error_of,
    load_handbuilt,
    sqlstate_of,
)

LIVE_KIND = "SELECT relkind FROM pg_class WHERE oid = 'public.flavor_descriptors'::regclass"
DESCRIPTOR_COLUMNS = (
    "id, user_id, source_type, source_id, descriptor_text, descriptor_type, category, "
    "subcategory, confidence_score, intensity, item_name, item_category, created_at, "
    "updated_at, normalized_form, ai_extracted, extraction_model"
)


def rows_of(url: str) -> dict[str, tuple[Any, ...]]:
    return {
        str(r[0]): tuple(r)
        for r in query(url, f"SELECT {DESCRIPTOR_COLUMNS} FROM public.flavor_descriptors")
    }


def migrate(url: str, batch: int = 10_000) -> partitioning.Step:
    return partitioning.migrate(url, batch)


@pytest.fixture
def populated(head_plain_db_url: str) -> str:
    """At head, flavor_descriptors still plain, 2,000 rows over two years and a half."""
    load_sample(head_plain_db_url, 2_000)
    execute(
        head_plain_db_url,
        "UPDATE public.flavor_descriptors SET created_at = timestamptz '2024-01-01' "
        "+ (abs(hashtext(id::text)) % 900) * interval '1 day' + interval '7 hours'",
    )
    return head_plain_db_url


# --- the partitioned table ------------------------------------------------------------


def test_an_empty_table_is_partitioned_by_the_upgrade(head_db_url: str) -> None:
    assert scalar(head_db_url, LIVE_KIND) == "p"
    snap = catalog_snapshot(head_db_url)
    assert snap["invalid_indexes"] == []
    indexes = dict(snap["indexes"])
    # Every non-unique index the plain table had exists on the parent, so on every partition.
    for name in (
        "idx_flavor_descriptors_user_type_created",
        "ix_flavor_descriptors_user_normalized_type",
        "ix_flavor_descriptors_text_trgm",
        "ix_flavor_descriptors_search_vector",
        "ix_flavor_descriptors_user_created_id",
    ):
        assert "ON ONLY public.flavor_descriptors" in indexes[name], name
    partitions = column(
        head_db_url,
        "SELECT c.relnamespace::regnamespace || '.' || c.relname FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.flavor_descriptors'::regclass ORDER BY 1",
    )
    this_month = datetime.now(UTC).strftime("%Y_%m")
    assert f"flavatix_partitions.flavor_descriptors_p{this_month}" in partitions
    assert "flavatix_partitions.flavor_descriptors_default" in partitions
    assert len(partitions) == 5  # this month, three ahead, default
    per_partition = scalar(
        head_db_url,
        "SELECT count(*) FROM pg_index WHERE indrelid = "
        "'flavatix_partitions.flavor_descriptors_default'::regclass",
    )
    on_parent = scalar(
        head_db_url,
        "SELECT count(*) FROM pg_index WHERE indrelid = 'public.flavor_descriptors'::regclass",
    )
    assert per_partition == on_parent == 17
    triggers = {name for _, name, _ in snap["triggers"]}
    assert {
        "update_flavor_descriptors_updated_at",
        "zz_flavor_descriptors_normalized_form",
        "flavor_descriptors_count_inserts",
        "flavatix_partition_keys",
    } <= triggers
    # Nothing to fall back to on an empty table, so nothing is kept in step.
    assert (
        scalar(head_db_url, "SELECT to_regclass('flavatix_unpartitioned.flavor_descriptors')")
        is None
    )


def test_keys_stay_unique_across_months(head_db_url: str) -> None:
    url = head_db_url
    source = str(uuid.uuid4())
    first = insert_descriptor(
        url, source_id=source, descriptor_text="Cherry", created_at="2026-01-05"
    )
    for duplicate in (
        {"source_id": source, "descriptor_text": "Cherry", "created_at": "2027-01-05"},
        {"source_id": source, "descriptor_text": "  CHERRY ", "created_at": "2024-06-05"},
        {"id": first, "descriptor_text": "plum", "created_at": "2025-02-05"},
    ):
        with pytest.raises(psycopg2.errors.UniqueViolation):
            insert_descriptor(url, **duplicate)
    # A row moved to another month keeps its key; its old key is free again.
    execute(
        url,
        "UPDATE public.flavor_descriptors SET created_at = '2024-03-01', "
        "descriptor_text = 'plum' WHERE id = %s",
        (str(first),),
    )
    insert_descriptor(url, source_id=source, descriptor_text="cherry", created_at="2024-03-02")
    with pytest.raises(psycopg2.errors.UniqueViolation):
        insert_descriptor(url, source_id=source, descriptor_text="Plum", created_at="2026-01-01")
    assert scalar(url, "SELECT count(*) FROM flavatix_partitions.flavor_descriptor_keys") == 2
    # batch_insert_descriptors counts a second spelling as a duplicate, as before.
    result = query(
        url,
        "SELECT inserted_count, duplicate_count, error_count FROM "
        'public.batch_insert_descriptors(\'[{"text": "PLUM", "type": "aroma"}, '
        '{"text": "fig", "type": "aroma"}]\', %s, \'quick_tasting\', %s)',
        (str(uuid.uuid4()), source),
    )
    assert result == [(1, 1, 0)]


def test_a_null_created_at_is_refused_with_its_reason(head_db_url: str, populated: str) -> None:
    with pytest.raises(psycopg2.errors.NotNullViolation):
        insert_descriptor(head_db_url, created_at=None)
    execute(
        populated,
        "UPDATE public.flavor_descriptors SET created_at = NULL "
        "WHERE id = (SELECT min(id::text)::uuid FROM public.flavor_descriptors)",
    )
    with pytest.raises(partitioning.PartitioningError, match="1 rows have no created_at"):
        migrate(populated)
    assert scalar(populated, LIVE_KIND) == "r"


# --- helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "sqlstate", "says"),
    [
        ("SELECT public.create_descriptor_partition(NULL, 1)", "22004", "p_year"),
        ("SELECT public.create_descriptor_partition(2025, NULL)", "22004", "p_month"),
        ("SELECT public.create_descriptor_partition(2025, 13)", "22023", "p_month"),
        ("SELECT public.create_descriptor_partition(2025, 0)", "22023", "p_month"),
        ("SELECT public.create_descriptor_partition(-5, 1)", "22023", "p_year"),
        ("SELECT public.ensure_future_partitions(-1)", "22023", "p_months_ahead"),
        ("SELECT public.ensure_future_partitions(NULL)", "22004", "p_months_ahead"),
        ("SELECT public.ensure_future_partitions(100000)", "22023", "p_months_ahead"),
        ("SELECT * FROM public.archive_old_partitions(0)", "22023", "p_months_to_keep"),
        ("SELECT * FROM public.archive_old_partitions(-3)", "22023", "p_months_to_keep"),
        ("SELECT * FROM public.archive_old_partitions(NULL)", "22004", "p_months_to_keep"),
        ("SELECT public.detach_partition(NULL)", "22004", "p_partition_name"),
        ("SELECT public.detach_partition('')", "22023", "not a monthly partition"),
        ("SELECT public.detach_partition('flavor_descriptors')", "22023", "not a monthly"),
        ("SELECT public.detach_partition('flavor_descriptors_default')", "22023", "not a"),
        ("SELECT public.detach_partition('mv_descriptor_search')", "22023", "not a monthly"),
        (
            "SELECT public.detach_partition('flavatix_partitions.flavor_descriptors_p2026_01')",
            "22023",
            "not a monthly",
        ),
        ("SELECT public.detach_partition('\"flavor_descriptors_p2026_01\"')", "22023", "not a"),
        (
            "SELECT public.detach_partition('x''; DROP TABLE public.flavor_descriptors; --')",
            "22023",
            "not a monthly",
        ),
        ("SELECT public.get_partition_for_date(NULL)", "22004", "p_date"),
        ("SELECT * FROM public.migrate_to_partitioned_table(0, true)", "22023", "p_batch_size"),
        ("SELECT * FROM public.migrate_to_partitioned_table(NULL, true)", "22004", "p_batch"),
        ("SELECT * FROM public.migrate_to_partitioned_table(10, NULL)", "22004", "p_dry_run"),
    ],
)
def test_bad_input_is_a_clear_error(head_db_url: str, sql: str, sqlstate: str, says: str) -> None:
    before = catalog_snapshot(head_db_url)
    code, message = error_of(head_db_url, sql)
    assert (code, says in message) == (sqlstate, True), message
    assert catalog_snapshot(head_db_url) == before
    assert scalar(head_db_url, "SELECT count(*) FROM flavor_descriptors") == 0


def test_helpers_on_real_months(head_db_url: str) -> None:
    url = head_db_url
    made = scalar(url, "SELECT public.create_descriptor_partition(2024, 2)")
    assert made == "flavor_descriptors_p2024_02"
    again = scalar(url, "SELECT public.create_descriptor_partition(2024, 2)")
    assert again == made
    assert scalar(url, "SELECT public.get_partition_for_date('2024-02-29 23:59:59+00')") == made
    assert (
        scalar(url, "SELECT public.get_partition_for_date('2031-05-01')")
        == "flavor_descriptors_default"
    )
    assert scalar(url, "SELECT public.ensure_future_partitions(5)") == 2
    assert scalar(url, "SELECT public.ensure_future_partitions(5)") == 0
    assert scalar(url, "SELECT public.analyze_all_partitions()") >= 8
    # A row for a month with no partition waits in the default one, then moves.
    far = insert_descriptor(url, created_at="2031-05-02 10:00+00")
    source = scalar(
        url, "SELECT source_id::text FROM flavor_descriptors WHERE id = %s", (str(far),)
    )
    report = scalar(url, "SELECT public.run_partition_maintenance()")
    assert report["partitions_filled_from_default"] == ["flavor_descriptors_p2031_05"]
    assert report["rows_in_default"] == 0
    assert (
        scalar(
            url,
            "SELECT tableoid::regclass::text FROM flavor_descriptors WHERE id = %s",
            (str(far),),
        )
        == "flavatix_partitions.flavor_descriptors_p2031_05"
    )
    # The move kept its key.
    with pytest.raises(psycopg2.errors.UniqueViolation):
        insert_descriptor(url, source_id=source, created_at="2026-01-01")
    actions = column(url, "SELECT action FROM public.partition_maintenance_log ORDER BY id")
    assert {"create", "analyze", "maintenance"} <= set(actions)


def test_archive_honours_its_argument_and_keeps_the_rows(head_db_url: str) -> None:
    url = head_db_url
    now = datetime.now(UTC)
    for months_back in range(1, 30):
        moment = (now.replace(day=1) - timedelta(days=months_back * 31 - 15)).replace(day=10)
        insert_descriptor(url, created_at=moment.isoformat())
    assert scalar(url, "SELECT public.run_partition_maintenance()")["rows_in_default"] == 0
    total = scalar(url, "SELECT count(*) FROM flavor_descriptors")
    archived = query(
        url, "SELECT partition_name, row_count, action FROM public.archive_old_partitions(24)"
    )
    cutoff = (
        now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    ).replace(day=1)
    assert len(archived) >= 5
    assert all(action == "detached" for _, _, action in archived)
    kept_months = column(
        url, "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY_MM') FROM flavor_descriptors"
    )
    assert min(kept_months) >= f"{cutoff.year - 2}_{cutoff.month:02d}"
    archived_rows = sum(n for _, n, _ in archived)
    assert scalar(url, "SELECT count(*) FROM flavor_descriptors") == total - archived_rows
    # Detached, not dropped: every row is still in its own table.
    assert (
        sum(
            scalar(url, f"SELECT count(*) FROM flavatix_partitions.{name}")
            for name, _, _ in archived
        )
        == archived_rows
    )
    assert query(url, "SELECT * FROM public.archive_old_partitions(24)") == []


def test_api_roles_cannot_reach_the_partition_machinery(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    assert scalar(url, LIVE_KIND) == "p"
    for role in ("anon", "authenticated"):
        for sql in (
            "SELECT public.ensure_future_partitions(1)",
            "SELECT * FROM public.migrate_to_partitioned_table(10, true)",
            "SELECT public.detach_partition('flavor_descriptors_p2026_01')",
            "SELECT count(*) FROM public.partition_maintenance_log",
            "SELECT count(*) FROM flavatix_partitions.flavor_descriptors_default",
            "SELECT count(*) FROM flavatix_partitions.flavor_descriptor_keys",
        ):
            assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501", (role, sql)
    assert call_as(url, "SELECT public.ensure_future_partitions(1)", role="service_role")


def test_row_level_security_holds_on_the_partitioned_table(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    load_handbuilt(url, supabase=True)
    policies = query(
        url,
        "SELECT policyname FROM pg_policies WHERE tablename = "
        "'flavor_descriptors' AND schemaname = 'public'",
    )
    assert len(policies) == 4
    mine = call_as(
        url,
        "SELECT DISTINCT user_id::text FROM public.flavor_descriptors",
        role="authenticated",
        sub=USER_A,
    )
    assert mine == [(USER_A,)]
    assert call_as(url, "SELECT count(*) FROM public.flavor_descriptors", role="anon") == [(0,)]
    rows = call_as(
        url,
        "SELECT inserted_count FROM public.batch_insert_descriptors("
        '\'[{"text": "Smoke", "type": "aroma"}]\', %s, \'quick_review\', gen_random_uuid())',
        (USER_A,),
        role="authenticated",
        sub=USER_A,
        commit=True,
    )
    assert rows == [(1,)]


# --- the switch-over ------------------------------------------------------------------


class Writer(threading.Thread):
    """Inserts, updates (text, user, month) and deletes at random, keeping a model."""

    def __init__(self, url: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.writes = 0

    def run(self) -> None:
        with connect(self.url) as conn, conn.cursor() as cur:
            cur.execute("SELECT id::text FROM public.flavor_descriptors")
            ids = [r[0] for r in cur.fetchall()]
            while not self.stop.is_set():
                roll = self.random.random()
                try:
                    if roll < 0.4 or not ids:
                        cur.execute(
                            "INSERT INTO public.flavor_descriptors (user_id, source_type, "
                            "source_id, descriptor_text, descriptor_type, created_at) "
                            "VALUES (gen_random_uuid(), 'quick_review', gen_random_uuid(), %s, "
                            "'flavor', timestamptz '2024-01-01' + %s * interval '1 day') "
                            "RETURNING id::text",
                            (f"written {self.writes}", self.random.randrange(1000)),
                        )
                        ids.append(cur.fetchone()[0])  # type: ignore[index]
                    elif roll < 0.8:
                        cur.execute(
                            "UPDATE public.flavor_descriptors SET descriptor_text = %s, "
                            "user_id = gen_random_uuid(), created_at = created_at + %s "
                            "* interval '40 days' WHERE id = %s",
                            (
                                f"changed {self.writes}",
                                self.random.choice((-1, 0, 1)),
                                self.random.choice(ids),
                            ),
                        )
                    else:
                        cur.execute(
                            "DELETE FROM public.flavor_descriptors WHERE id = %s",
                            (ids.pop(self.random.randrange(len(ids))),),
                        )
                    self.writes += 1
                except psycopg2.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
                time.sleep(0.002)


@pytest.fixture
def writer(populated: str) -> Iterator[Writer]:
    thread = Writer(populated, seed=5)
    thread.start()
    yield thread
    thread.stop.set()
    thread.join()


def test_switch_over_under_writes_loses_and_doubles_nothing(populated: str, writer: Writer) -> None:
    url = populated
    time.sleep(0.3)
    final = migrate(url, batch=150)
    assert final.done
    time.sleep(0.3)
    writer.stop.set()
    writer.join()
    assert writer.errors == []
    assert writer.writes > 50
    assert scalar(url, LIVE_KIND) == "p"
    live = rows_of(url)
    kept = {
        str(r[0]): tuple(r)
        for r in query(
            url, f"SELECT {DESCRIPTOR_COLUMNS} FROM flavatix_unpartitioned.flavor_descriptors"
        )
    }
    assert live == kept
    # The writer's view of the table is whatever committed: same rows, same values.
    assert scalar(url, "SELECT count(*) FROM flavatix_partitions.flavor_descriptor_keys") == len(
        live
    )
    state = partitioning.status(url)
    assert state["live"] == "partitioned"
    assert state["last_check"]["equal"] is True
    # Rows whose month has no partition yet wait in the default one until maintenance.
    assert state["partitions"]["rows_in_default"] == scalar(
        url, "SELECT count(*) FROM flavatix_partitions.flavor_descriptors_default"
    )
    assert scalar(url, "SELECT public.run_partition_maintenance()")["rows_in_default"] == 0
    assert rows_of(url) == live


def test_copy_resumes_after_a_kill(populated: str) -> None:
    url = populated
    before = descriptors_checksum(url)
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flavatix_db.cli", "partition", "migrate", "--batch-size", "50"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        copied = scalar(url, "SELECT rows_copied FROM flavatix_partitions.migration_state")
        if copied and copied >= 500:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = partitioning.status(url)
    assert state["live"] == "unpartitioned"
    assert state["migration"]["phase"] == "copying"
    assert 0 < state["migration"]["rows_copied"] < 2_000
    assert migrate(url, batch=400).done
    assert descriptors_checksum(url) == before
    assert scalar(url, "SELECT count(DISTINCT id) = count(*) FROM flavor_descriptors")


def step_until(url: str, kind: str) -> list[str]:
    """Committed steps, one call each, up to the first of ``kind``; the kinds seen."""
    seen: list[str] = []
    while not seen or seen[-1] != kind:
        assert len(seen) < 200, seen
        seen.append(scalar(url, "SELECT step FROM public.migrate_to_partitioned_table(500, false)"))
    return seen


def phase(url: str) -> str:
    return str(scalar(url, "SELECT phase FROM flavatix_partitions.migration_state"))


def test_the_compare_is_a_step_of_its_own_and_the_switch_uses_it(populated: str) -> None:
    url = populated
    before = descriptors_checksum(url)
    seen = step_until(url, "compare")
    assert seen[0] == "prepare" and "copy" in seen, seen
    assert phase(url) == "switch"
    assert scalar(url, LIVE_KIND) == "r"
    check = partitioning.status(url)["last_check"]
    assert check["equal"] is True and check["live"]["count"] == 2_000
    # Writes between the two steps reach the copy through the mirror alone.
    insert_descriptor(url, created_at="2025-06-01")
    execute(
        url,
        "DELETE FROM public.flavor_descriptors WHERE id = (SELECT id FROM "
        "public.flavor_descriptors ORDER BY id LIMIT 1)",
    )
    expected = descriptors_checksum(url)
    dry = partitioning.migrate(url, 500, dry_run=True)
    assert (dry.step, phase(url)) == ("switch", "switch")
    final = partitioning.migrate(url, 500)
    assert final.step == "switch" and final.done
    assert scalar(url, LIVE_KIND) == "p"
    assert descriptors_checksum(url) == expected != before
    assert scalar(url, "SELECT count(*) FROM flavatix_unpartitioned.flavor_descriptors") == 2_000


def test_a_copy_step_stops_when_its_time_is_up(populated: str) -> None:
    """A writer of a row in a copy batch waits for the batch: the step bounds it."""
    url = populated
    before = descriptors_checksum(url)
    assert step_until(url, "prepare") == ["prepare"]
    # Make copying slow: 250 rows (one chunk) now take half a second.
    execute(
        url,
        "CREATE FUNCTION public.slow_copy() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.002); RETURN NULL; END $$; "
        "CREATE TRIGGER slow_copy AFTER INSERT ON flavatix_partitions.flavor_descriptors "
        "FOR EACH ROW EXECUTE FUNCTION public.slow_copy()",
    )
    started = time.monotonic()
    step = scalar(url, "SELECT step FROM public.migrate_to_partitioned_table(1000000, false)")
    seconds = time.monotonic() - started
    assert step == "copy"
    assert scalar(url, "SELECT rows_copied FROM flavatix_partitions.migration_state") == 250
    assert seconds < 1.0
    execute(
        url,
        "DROP TRIGGER slow_copy ON flavatix_partitions.flavor_descriptors; "
        "DROP FUNCTION public.slow_copy()",
    )
    assert migrate(url, batch=1_000).done
    assert descriptors_checksum(url) == before


def test_a_switch_refuses_a_compare_that_no_longer_holds(populated: str) -> None:
    url = populated
    step_until(url, "compare")
    # Another step after the compare: the state moved on without it.
    execute(url, "UPDATE flavatix_partitions.migration_state SET updated_at = now()")
    assert step_until(url, "stale")[-1] == "stale"
    assert phase(url) == "views"
    assert step_until(url, "compare") == ["compare"]
    # An old compare.
    execute(
        url,
        "UPDATE flavatix_partitions.migration_state SET updated_at = now() - interval '11 min', "
        "last_check = jsonb_set(last_check, '{checked_at}', "
        "to_jsonb(now() - interval '11 min'))",
    )
    detail = scalar(url, "SELECT detail FROM public.migrate_to_partitioned_table(500, false)")
    assert "more than 10 minutes old" in detail
    assert scalar(url, LIVE_KIND) == "r"
    assert step_until(url, "compare") == ["compare"]
    # A write the mirror missed (its trigger disabled for it): refused, compared
    # again, found different, and the copy is rebuilt from the start.
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "ALTER TABLE public.flavor_descriptors DISABLE TRIGGER flavatix_partition_mirror"
        )
        cur.execute(
            "UPDATE public.flavor_descriptors SET descriptor_text = 'unmirrored' "
            "WHERE id = (SELECT id FROM public.flavor_descriptors ORDER BY id LIMIT 1)"
        )
        cur.execute(
            "ALTER TABLE public.flavor_descriptors ENABLE TRIGGER flavatix_partition_mirror"
        )
    expected = descriptors_checksum(url)
    detail = scalar(url, "SELECT detail FROM public.migrate_to_partitioned_table(500, false)")
    assert "the copy or the mirror trigger changed" in detail
    with pytest.raises(partitioning.PartitioningError, match="differ"):
        partitioning.migrate(url, 500)
    assert phase(url) == "idle"
    assert partitioning.status(url)["last_check"]["equal"] is False
    assert scalar(url, LIVE_KIND) == "r"
    assert migrate(url, batch=500).done
    assert scalar(url, LIVE_KIND) == "p"
    assert descriptors_checksum(url) == expected


QUERIES = (
    "SELECT public.generate_wheel_data_optimized(%(a)s) - 'generatedAt'",
    "SELECT * FROM public.get_descriptors_paginated(%(a)s, p_limit => 100)",
    "SELECT public.get_user_descriptor_stats(%(a)s) - 'cache'",
    "SELECT * FROM public.get_top_descriptors(%(a)s)",
    "SELECT * FROM public.get_top_descriptors()",
    "SELECT * FROM public.get_descriptor_timeline(%(a)s, 5000)",
    "SELECT public.estimate_descriptor_count(%(a)s) > 0",
    "SELECT * FROM public.find_similar_descriptors('chery')",
    "SELECT * FROM public.find_similar_descriptors('vanilla', %(a)s)",
    "SELECT * FROM public.find_duplicate_descriptors(%(a)s, 0.5)",
    "SELECT * FROM public.autocomplete_descriptors('che')",
    "SELECT * FROM public.suggest_descriptor_category('cherry pie')",
    "SELECT public.descriptor_exists(%(b)s, 'CHERRY', 'aroma')",
    "SELECT public.get_wheel_data_fast(NULL, 'combined', 'category', 'whiskey') - 'generatedAt'",
)


def answers(url: str) -> list[list[Any]]:
    execute(url, "SELECT public.refresh_descriptor_views()")
    return [query(url, sql, {"a": USER_A, "b": USER_B}) for sql in QUERIES]


def test_query_functions_answer_the_same_after_the_switch(head_plain_db_url: str) -> None:
    url = head_plain_db_url
    load_handbuilt(url)
    before = answers(url)
    assert all(before[:4])
    migrate(url)
    assert scalar(url, LIVE_KIND) == "p"
    assert answers(url) == before


def test_downgrade_moves_back_online_and_upgrade_again(populated: str) -> None:
    url = populated
    before = descriptors_checksum(url)
    plain_catalog = catalog_snapshot(url)
    migrate(url, batch=700)
    execute(url, "SELECT flavatix_partitions.cleanup()")
    insert_descriptor(url, created_at="2025-06-01")
    moved = descriptors_checksum(url)
    assert moved[0] == before[0] + 1
    # No plain table is kept any more: the downgrade copies the rows back.
    migrations.downgrade(url, "004")
    assert scalar(url, LIVE_KIND) == "r"
    assert descriptors_checksum(url) == moved
    assert scalar(url, "SELECT to_regnamespace('flavatix_partitions')") is None
    unique = column(
        url,
        "SELECT indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = 'public.flavor_descriptors'::regclass AND indisunique ORDER BY 1",
    )
    assert unique == [
        "flavor_descriptors_pkey",
        "flavor_descriptors_source_descriptor_key",
        "uq_flavor_descriptors_source_normalized_type",
    ]
    # Up again (a populated table stays plain): the catalog is what it was.
    migrations.upgrade(url, "head")
    assert scalar(url, LIVE_KIND) == "r"
    after = catalog_snapshot(url)
    for part in ("indexes", "constraints", "triggers", "policies", "relations", "invalid_indexes"):
        assert after[part] == plain_catalog[part], part
    migrate(url)
    assert scalar(url, LIVE_KIND) == "p"
    # Switched, then back while the plain table is still kept in step: one quick swap.
    migrations.downgrade(url, "004")
    assert scalar(url, LIVE_KIND) == "r"
    assert descriptors_checksum(url) == moved


def test_dry_run_changes_nothing(populated: str) -> None:
    url = populated
    before = catalog_snapshot(url)
    step = partitioning.migrate(url, 100, dry_run=True)
    assert step.step == "prepare"
    assert "copy about 2000 rows" in step.detail
    assert catalog_snapshot(url) == before


def test_models_match_both_states(head_db_url: str, head_plain_db_url: str) -> None:
    for url in (head_db_url, head_plain_db_url):
        check = run_alembic(url, "check")
        assert check.returncode == 0, check.stderr
        assert "No new upgrade operations detected." in check.stdout + check.stderr


def test_downgrade_restores_the_batch_insert_of_004() -> None:
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    at_004 = scripts.get_revision("004").module
    at_005 = scripts.get_revision("005").module
    assert at_005.BATCH_INSERT_004 == at_004.CREATE_BATCH_INSERT
