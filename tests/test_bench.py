"""The benchmark runs end to end on a small dataset (its timings are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flavatix_db import cli, insert_cost
from tests.dbtools import scalar


def run_bench(url: str, report: Path, chart: Path, *extra: str) -> int:
    return cli.main(
        [
            *("--url", url, "bench", "--rows", "3000", "--changes", "300", "--insert-rounds", "2"),
            *("--json", str(report), "--chart", str(chart)),
            *extra,
        ]
    )


def test_bench_small_run_writes_table_json_and_chart(
    empty_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLAVATIX_DB_HOME", str(tmp_path / "home"))
    report, chart = tmp_path / "bench.json", tmp_path / "bench.png"
    code = run_bench(empty_db_url, report, chart)
    assert "| wheel_generation" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["rows"] == 3000
    assert result["floor_p50_ms"] > 0
    assert set(result["migration"]) >= {"seconds", "writer_max_wait_ms"}
    kinds = [q["kind"] for q in result["queries"]]
    assert kinds == [
        "wheel_generation",
        "descriptor_page",
        "autocomplete",
        "user_statistics",
        "similarity_search",
        "duplicate_detection",
    ]
    for query in result["queries"]:
        assert set(query) == {
            "kind",
            "before_p50_ms",
            "before_p95_ms",
            "after_p50_ms",
            "after_p95_ms",
            "speedup_p50",
            "same_answers",
        }
        assert query["after_p50_ms"] > 0
        assert query["same_answers"] is True, query["kind"]
    refresh = result["refresh"]
    assert set(refresh) == {"full_seconds", "incremental_seconds", "changed_rows", "same_as_full"}
    assert refresh["same_as_full"] is True
    # A quarter are updates of every other picked row; none is refused on this data.
    assert 250 <= refresh["changed_rows"] <= 300
    assert refresh["full_seconds"] > 0 and refresh["incremental_seconds"] > 0
    inserts = result["insert_tracking"]
    assert inserts["statements"] == 400
    assert inserts["without_ms"] > 0 and inserts["with_ms"] > 0
    assert code == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The scratch database is at head; the template keeps the baseline for next time.
    bench_url = empty_db_url.rsplit("/", 1)[0] + "/flavatix_bench_3000"
    assert scalar(bench_url, "SELECT count(*) FROM flavatix_migrations.alembic_version") == 1
    # The insert measurement leaves change tracking on, and its rows gone.
    tracking = (
        "SELECT tgenabled FROM pg_trigger WHERE tgname = 'flavor_descriptors_count_inserts' "
        "AND tgrelid = 'public.flavor_descriptors'::regclass"
    )
    assert scalar(bench_url, tracking) == "O"
    marked = "SELECT count(*) FROM public.flavor_descriptors WHERE item_name = %s"
    assert scalar(bench_url, marked, (insert_cost.MARK,)) == 0

    assert (
        scalar(
            bench_url,
            "SELECT relkind FROM pg_class WHERE relname = 'flavor_descriptors' "
            "AND relnamespace = 'public'::regnamespace",
        )
        == "r"
    )

    # A second run reuses the baseline figures and the cached dataset; this
    # one times the "after" side on the partitioned table.
    assert run_bench(empty_db_url, report, chart, "--partitioned") == 0
    out = capsys.readouterr().out
    assert "before: reusing" in out
    assert "partition migrate under load" in out
    again = json.loads(report.read_text())
    before = [(q["before_p50_ms"], q["before_p95_ms"]) for q in result["queries"]]
    assert [(q["before_p50_ms"], q["before_p95_ms"]) for q in again["queries"]] == before
    assert all(q["same_answers"] for q in again["queries"])
    assert again["migration"]["partition_writer_failed"] == 0
    assert again["migration"]["partition_writer_statements"] > 0
    assert (
        scalar(
            bench_url,
            "SELECT relkind FROM pg_class WHERE relname = 'flavor_descriptors' "
            "AND relnamespace = 'public'::regnamespace",
        )
        == "p"
    )

    # Queries by user alone, as months accumulate, on a copy of that database.
    assert (
        cli.main(
            [
                "--url",
                empty_db_url,
                "bench-months",
                "--rows",
                "3000",
                "--months",
                "60,90",
                "--reps",
                "5",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "| 60 | first page |" in table
    assert "| 90 | descriptor_exists |" in table
    monthly = "SELECT count(*) FROM flavatix_partitions.months('public.flavor_descriptors')"
    assert scalar(bench_url, monthly) < 60  # the copy got the extra months, not the bench
