"""Revision 007: rollback functions that are the downgrades, verification, migration history."""

from __future__ import annotations

import re
from typing import Any

import psycopg2
import pytest
from alembic.script import Script, ScriptDirectory

from flavatix_db import migrations
from tests.dbtools import (
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
from tests.handbuilt import error_of, sqlstate_of

OWN = "007"
CONFIRMATION = "I_UNDERSTAND_THIS_IS_DESTRUCTIVE"
VERSION = "SELECT version_num FROM flavatix_migrations.alembic_version"
HISTORY = (
    "SELECT revision, direction, via, outcome, error FROM flavatix_migrations.migration_history "
    "ORDER BY id"
)


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config())


def beneath_007() -> list[Script]:
    """Revisions with a rollback function: every one below 007 but the baseline."""
    own = scripts().get_revision(OWN)
    assert own is not None and isinstance(own.down_revision, str)
    return [
        rev
        for rev in reversed(list(scripts().walk_revisions("base", own.down_revision)))
        if rev.down_revision is not None
    ]


def function_of(rev: Script) -> str:
    return "rollback_" + rev.path.rsplit("/", 1)[-1].removesuffix(".py")


REVISIONS = beneath_007()


def normalized(sql: str) -> str:
    """Statements without comment lines, transaction brackets or layout."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    text = " ".join(lines)
    text = re.sub(r"\b(BEGIN|COMMIT);", " ", text)
    return " ".join(text.split())


def alembic_downgrade_sql(url: str, rev: Script) -> str:
    """What `alembic downgrade <rev>:<parent> --sql` runs for the revision itself."""
    result = run_alembic(url, "downgrade", f"{rev.revision}:{rev.down_revision}", "--sql")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    start = out.index(f"-- Running downgrade {rev.revision} -> {rev.down_revision}")
    start = out.index("\n", start)
    end = out.index("SELECT pg_advisory_unlock")
    return out[start:end]


def rows(url: str, sql: str, params: Any = None) -> list[tuple[str, str, str]]:
    return [(str(a), str(o), str(s)) for a, o, s in query(url, sql, params)]


@pytest.mark.parametrize("rev", REVISIONS, ids=[r.revision for r in REVISIONS])
def test_dry_run_is_what_alembic_downgrade_runs(head_db_url: str, rev: Script) -> None:
    lowest = function_of(REVISIONS[0])
    plan = rows(head_db_url, f"SELECT * FROM public.{lowest}(true, true)")
    name = function_of(rev).removeprefix("rollback_")
    mine = [action for action, obj, _ in plan if obj.startswith(name + " #")]
    assert mine, f"no dry-run rows for {name}"
    assert normalized("\n".join(mine)) == normalized(alembic_downgrade_sql(head_db_url, rev))
    # The revision's own function lists the same statements.
    own = rows(head_db_url, f"SELECT * FROM public.{function_of(rev)}(true, true)")
    assert [a for a, o, _ in own if o.startswith(name + " #")] == mine


def test_dry_run_changes_nothing_and_says_how_each_step_runs(head_db_url: str) -> None:
    before = scalar(head_db_url, VERSION)
    plan = rows(head_db_url, f"SELECT * FROM public.{function_of(REVISIONS[0])}(p_cascade => true)")
    assert scalar(head_db_url, VERSION) == before == OWN
    # First the version table leaves 007, whose objects stay.
    assert plan[0][1] == "007_rollback_procedures"
    assert "SET version_num='" in plan[0][0]
    drops = [s for a, _, s in plan if "DROP INDEX CONCURRENTLY" in a]
    assert drops and all("as DROP INDEX: ACCESS EXCLUSIVE lock" in s for s in drops)
    # The table is partitioned: 005's move back commits as it goes.
    (call,) = [s for a, _, s in plan if a.startswith("CALL ")]
    assert call.startswith("refused:") and "alembic downgrade 004" in call
    assert all(s.startswith(("planned", "refused")) for _, _, s in plan)


def test_revisions_above_are_refused_without_cascade(head_db_url: str) -> None:
    code, message = error_of(head_db_url, f"SELECT * FROM public.{function_of(REVISIONS[0])}()")
    assert code == "55000"
    assert "beneath revisions still applied" in message
    assert "p_cascade => true" in message and "alembic downgrade" in message
    # The top revision beneath 007 needs no cascade.
    top = rows(head_db_url, f"SELECT * FROM public.{function_of(REVISIONS[-1])}()")
    assert top


def test_partitioned_table_is_refused_with_the_command(head_db_url: str) -> None:
    history_before = query(head_db_url, HISTORY)
    code, message = error_of(
        head_db_url, "SELECT * FROM public.rollback_005_partitioning_strategy(false, true)"
    )
    assert code == "55000"
    assert "cannot run inside a function" in message and "alembic downgrade 004" in message
    assert scalar(head_db_url, VERSION) == OWN
    assert scalar(head_db_url, "SELECT to_regproc('public.create_descriptor_partition')")
    # A refused call changes nothing, its history row included.
    assert query(head_db_url, HISTORY) == history_before


def test_real_rollback_then_upgrade_head(head_plain_db_url: str) -> None:
    url = head_plain_db_url
    load_sample(url, 300)
    insert_descriptor(url, descriptor_type="mouthfeel")
    before = descriptors_checksum(url)
    # 001 refuses while rows use values 000 does not allow, like its downgrade;
    # the whole call is undone and the failure recorded.
    failed = rows(url, f"SELECT * FROM public.{function_of(REVISIONS[0])}(false, true)")
    assert failed[-1][2].startswith("failed: SQLSTATE 55000: cannot downgrade 001")
    assert all(s.startswith("undone: ") for _, _, s in failed[:-1])
    assert scalar(url, VERSION) == OWN
    assert query(url, HISTORY)[-1][:4] == (
        REVISIONS[0].revision,
        "downgrade",
        f"{function_of(REVISIONS[0])}()",
        "failed",
    )

    done = rows(url, "SELECT * FROM public.rollback_002_trigram_fuzzy_search(false, true)")
    assert all(s.startswith(("done", "skipped")) for _, _, s in done), done
    assert any(s.startswith("skipped") for a, _, s in done if a.startswith("CALL "))
    assert scalar(url, VERSION) == "001"
    assert descriptors_checksum(url) == before
    assert scalar(url, "SELECT to_regproc('public.find_similar_descriptors')") is None
    assert scalar(url, "SELECT to_regclass('public.mv_user_descriptor_summary')") is None
    history = query(url, HISTORY)
    by_function = [r for r in history if r[2] == "rollback_002_trigram_fuzzy_search()"]
    assert [(r[0], r[1], r[3]) for r in by_function] == [
        (REVISIONS[-1].revision, "stamp", "succeeded"),
        *[(rev.revision, "downgrade", "succeeded") for rev in reversed(REVISIONS[1:])],
    ]

    up = run_alembic(url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert scalar(url, VERSION) == OWN
    assert descriptors_checksum(url) == before
    check = run_alembic(url, "check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected." in check.stdout + check.stderr
    report = query(url, "SELECT * FROM verify_migrations()")
    assert [(n, d) for n, status, _, d in report if status != "VERIFIED"] == []


def history_of(url: str, function: str) -> list[tuple[str, str, str, str | None]]:
    """(revision, direction, outcome, error) of the rows a rollback function wrote."""
    return [(r[0], r[1], r[3], r[4]) for r in query(url, HISTORY) if r[2] == function + "()"]


def not_verified(url: str) -> list[tuple[str, Any]]:
    report = query(url, "SELECT * FROM public.verify_migrations()")
    return [(name, details) for name, status, _, details in report if status != "VERIFIED"]


def test_a_failed_step_undoes_the_call_and_leaves_its_row(head_plain_db_url: str) -> None:
    """Another session's lock makes 004's DROP TABLE give up half-way through a cascade."""
    url = head_plain_db_url
    load_sample(url, 200)
    before = descriptors_checksum(url)
    function = "rollback_004_query_optimization"
    with connect(url, autocommit=False) as holder, connect(url) as caller:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE public.query_performance_hints IN ACCESS SHARE MODE")
        with caller.cursor() as cur:
            cur.execute("SET lock_timeout = '200ms'")
            cur.execute(f"SELECT * FROM public.{function}(false, true)")
            returned = cur.fetchall()
        warnings = list(caller.notices)
        holder.rollback()
    # The call's own transaction committed; its last row says it failed, and where.
    action, step, status = returned[-1]
    assert status.startswith("failed: SQLSTATE 55P03: ")
    assert "version table stays at 007" in status
    assert "DROP TABLE IF EXISTS public.query_performance_hints" in action
    assert step.startswith("004_query_optimization #")
    assert len(returned) > 1 and all(s.startswith("undone: ") for _, _, s in returned[:-1])
    assert any(w.startswith("WARNING") and "55P03" in w for w in warnings)
    # Nothing of the call stays (006 and 005, done before 004 failed, included);
    # the record of the failure does.
    assert scalar(url, VERSION) == OWN
    assert not_verified(url) == []
    assert descriptors_checksum(url) == before
    ((revision, direction, outcome, error),) = history_of(url, function)
    assert (revision, direction, outcome) == ("004", "downgrade", "failed")
    assert error is not None and error.startswith("55P03: ") and "lock timeout" in error
    # The lock is gone: the same call goes through, and is recorded.
    done = rows(url, f"SELECT * FROM public.{function}(false, true)")
    assert all(s.startswith(("done", "skipped")) for _, _, s in done), done
    assert scalar(url, VERSION) == "003"
    assert descriptors_checksum(url) == before
    assert [r[:3] for r in history_of(url, function)[1:]] == [
        ("006", "stamp", "succeeded"),
        ("006", "downgrade", "succeeded"),
        ("005", "downgrade", "succeeded"),
        ("004", "downgrade", "succeeded"),
    ]
    report = {n: s for n, s, _, _ in query(url, "SELECT * FROM verify_migrations()")}
    assert report["003_materialized_views"] == "VERIFIED"
    assert report["004_query_optimization"] == "NOT_APPLIED"


def test_rollback_all_that_fails_leaves_its_row(head_plain_db_url: str) -> None:
    url = head_plain_db_url
    load_sample(url, 100)
    insert_descriptor(url, descriptor_type="mouthfeel")
    before = descriptors_checksum(url)
    call = "SELECT * FROM public.rollback_all_migrations(false, %s)"
    failed = rows(url, call, [CONFIRMATION])
    assert failed[-1][2].startswith("failed: SQLSTATE 55000: cannot downgrade 001")
    assert scalar(url, VERSION) == OWN
    assert not_verified(url) == []
    assert descriptors_checksum(url) == before
    ((revision, direction, outcome, error),) = history_of(url, "rollback_all_migrations")
    assert (revision, direction, outcome) == (REVISIONS[0].revision, "downgrade", "failed")
    assert error is not None and error.startswith("55000: cannot downgrade 001")
    # Re-typed as revision 000 allows, the same call goes all the way.
    execute(
        url,
        "UPDATE public.flavor_descriptors SET descriptor_type = 'texture' "
        "WHERE descriptor_type = 'mouthfeel'",
    )
    fixed = descriptors_checksum(url)
    done = rows(url, call, [CONFIRMATION])
    assert all(s.startswith(("done", "skipped")) for _, _, s in done), done
    assert scalar(url, VERSION) == "000"
    assert descriptors_checksum(url) == fixed
    assert [r[:3] for r in history_of(url, "rollback_all_migrations")[1:]] == [
        (REVISIONS[-1].revision, "stamp", "succeeded"),
        *[(rev.revision, "downgrade", "succeeded") for rev in reversed(REVISIONS)],
    ]


@pytest.mark.parametrize("state", ["head_db_url", "head_plain_db_url", "supabase_head_db_url"])
def test_verify_reports_nothing_at_a_clean_head(request: pytest.FixtureRequest, state: str) -> None:
    url = request.getfixturevalue(state)
    report = query(url, "SELECT * FROM public.verify_migrations()")
    names = [name for name, *_ in report]
    assert names[0] == "000_baseline" and names[-1] == "007_rollback_procedures"
    assert [n for n in names if n.startswith(tuple(r.revision for r in REVISIONS))] == [
        function_of(r).removeprefix("rollback_") for r in REVISIONS
    ]
    failed = [(name, details) for name, status, _, details in report if status != "VERIFIED"]
    assert not failed
    assert all(details["checked"] > 0 for *_, details in report)


BREAKAGES = {
    "index dropped by hand": (
        "DROP INDEX public.ix_flavor_wheels_user_wheel_scope",
        "001_schema_optimization",
        ("index", "public.ix_flavor_wheels_user_wheel_scope", "missing"),
    ),
    "index left invalid": (
        "UPDATE pg_index SET indisvalid = false "
        "WHERE indexrelid = 'public.ix_flavor_wheels_expires_at'::regclass",
        "001_schema_optimization",
        ("index", "public.ix_flavor_wheels_expires_at", "INVALID"),
    ),
    "function replaced": (
        "CREATE OR REPLACE FUNCTION public.estimate_descriptor_count(p_user_id uuid DEFAULT NULL) "
        "RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint'",
        "004_query_optimization",
        ("function", "public.estimate_descriptor_count(uuid)", "definition "),
    ),
    # The summaries are tables kept by the refresh, so no revision leaves a
    # materialized view to find unpopulated; what breaks them is a change
    # tracking trigger switched off.
    "change tracking switched off": (
        "ALTER TABLE public.flavor_descriptors DISABLE TRIGGER flavor_descriptors_count_inserts",
        "003_materialized_views",
        ("trigger", "public.flavor_descriptors.flavor_descriptors_count_inserts", "disabled"),
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_verify_catches(head_db_url: str, breakage: str) -> None:
    sql, culprit, (kind, name, found) = BREAKAGES[breakage]
    execute(head_db_url, sql)
    report = {
        n: (s, r, d) for n, s, r, d in query(head_db_url, "SELECT * FROM verify_migrations()")
    }
    status, result, details = report[culprit]
    assert status == "FAILED"
    assert result.startswith("1 of ")
    (problem,) = details["problems"]
    assert (problem["kind"], problem["name"]) == (kind, name)
    assert problem["found"].startswith(found)
    assert problem["found"] != problem["expected"]
    assert all(s == "VERIFIED" for n, (s, _, _) in report.items() if n != culprit)


# A summary kept by refresh_descriptor_views() is a table, so "never
# populated" is read from the refresh's own record: (how a real failure leaves
# it, the revision that makes it, the summary, what verify_migrations() finds).
NEVER_BUILT = {
    # A restore that skipped its data, or a TRUNCATE: the record says it was
    # built, and a refresh of what changed would never fill it.
    "emptied after its build": (
        "TRUNCATE public.mv_user_descriptor_summary",
        "003_materialized_views",
        "public.mv_user_descriptor_summary",
        "refresh of what changed will not fill it",
    ),
    "first build pending": (
        "TRUNCATE public.mv_descriptor_search; UPDATE public.mv_refresh_log "
        "SET last_refreshed_at = NULL WHERE view_name = 'mv_descriptor_search'",
        "002_trigram_fuzzy_search",
        "public.mv_descriptor_search",
        "its first build is pending",
    ),
    "unknown to the refresh": (
        "DELETE FROM public.mv_refresh_log WHERE view_name = 'mv_user_wheel_subcategories'",
        "003_materialized_views",
        "public.mv_user_wheel_subcategories",
        "not in public.mv_refresh_log",
    ),
}


@pytest.mark.parametrize("state", list(NEVER_BUILT))
def test_verify_catches_a_summary_never_built(head_plain_db_url: str, state: str) -> None:
    url = head_plain_db_url
    load_sample(url, 200)
    execute(url, "SELECT public.refresh_descriptor_views()")
    assert not_verified(url) == []
    sql, culprit, name, found = NEVER_BUILT[state]
    execute(url, sql)
    report = {n: (s, r, d) for n, s, r, d in query(url, "SELECT * FROM verify_migrations()")}
    status, result, details = report[culprit]
    assert status == "FAILED"
    assert result.startswith("1 of ")
    (problem,) = details["problems"]
    assert (problem["kind"], problem["name"]) == ("summary", name)
    assert found in problem["found"]
    assert all(s == "VERIFIED" for n, (s, _, _) in report.items() if n != culprit)
    # The repair it names makes the summary whole again.
    execute(url, problem["repair"])
    assert not_verified(url) == []


def test_verify_agrees_with_the_version_table(head_plain_db_url: str) -> None:
    url = head_plain_db_url
    rows(url, "SELECT * FROM public.rollback_004_query_optimization(false, true)")
    report = {n: s for n, s, _, _ in query(url, "SELECT * FROM verify_migrations()")}
    assert report["003_materialized_views"] == "VERIFIED"
    assert report["004_query_optimization"] == "NOT_APPLIED"
    assert report["005_partitioning_strategy"] == "NOT_APPLIED"
    assert report["007_rollback_procedures"] == "NOT_APPLIED"


def test_history_of_alembic_runs(head_db_url: str) -> None:
    history = query(head_db_url, HISTORY)
    applied = [rev.revision for rev in reversed(list(scripts().walk_revisions()))]
    assert [(r[0], r[1], r[2], r[3]) for r in history] == [
        (rev, "upgrade", "alembic", "succeeded") for rev in applied
    ]
    times = query(
        head_db_url,
        "SELECT bool_and(started_at <= finished_at), bool_and(db_user = current_user) "
        "FROM flavatix_migrations.migration_history",
    )
    assert times == [(True, True)]


def test_history_keeps_a_failed_upgrade(baseline_db_url: str) -> None:
    url = baseline_db_url
    assert run_alembic(url, "upgrade", "001").returncode == 0
    # 002 creates this function with another return type: its upgrade fails.
    execute(
        url,
        "CREATE FUNCTION public.suggest_descriptor_category(text, double precision DEFAULT 0.5) "
        "RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    )
    failed = run_alembic(url, "upgrade", "002")
    assert failed.returncode != 0
    assert scalar(url, VERSION) == "001"
    last = query(url, HISTORY)[-1]
    assert last[:4] == ("002", "upgrade", "alembic", "failed")
    assert "suggest_descriptor_category" in last[4] or "return type" in last[4]


def test_history_backfills_revisions_applied_before_it(head_db_url: str) -> None:
    execute(head_db_url, "DROP TABLE flavatix_migrations.migration_history")
    assert run_alembic(head_db_url, "current").returncode == 0
    history = query(head_db_url, HISTORY)
    applied = [rev.revision for rev in reversed(list(scripts().walk_revisions()))]
    assert [(r[0], r[1], r[3]) for r in history] == [(rev, "upgrade", "assumed") for rev in applied]


def test_history_survives_the_downgrade_of_007(head_plain_db_url: str) -> None:
    own = scripts().get_revision(OWN)
    assert own is not None
    down = run_alembic(head_plain_db_url, "downgrade", str(own.down_revision))
    assert down.returncode == 0, down.stderr
    assert scalar(head_plain_db_url, "SELECT to_regproc('public.verify_migrations')") is None
    last = query(head_plain_db_url, HISTORY)[-1]
    assert last[:4] == (OWN, "downgrade", "alembic", "succeeded")


@pytest.mark.parametrize(
    ("confirm", "sqlstate"),
    [
        (None, "22004"),
        ("", "22023"),
        (CONFIRMATION.lower(), "22023"),
        (CONFIRMATION[:-1] + "F", "22023"),
        (" " + CONFIRMATION, "22023"),
    ],
)
def test_rollback_all_needs_the_exact_confirmation(
    head_plain_db_url: str, confirm: str | None, sqlstate: str
) -> None:
    code, message = error_of(
        head_plain_db_url, "SELECT * FROM public.rollback_all_migrations(false, %s)", [confirm]
    )
    assert code == sqlstate
    assert CONFIRMATION in message
    assert scalar(head_plain_db_url, VERSION) == OWN


def test_rollback_all(head_plain_db_url: str) -> None:
    url = head_plain_db_url
    # 001's downgrade keeps ai_extracted while it holds data; so does the function.
    insert_descriptor(url, ai_extracted=True, created_at="2025-03-01")
    before = descriptors_checksum(url)
    plan = rows(url, "SELECT * FROM public.rollback_all_migrations()")
    assert scalar(url, VERSION) == OWN
    done = rows(url, "SELECT * FROM public.rollback_all_migrations(false, %s)", [CONFIRMATION])
    assert [a for a, _, _ in done] == [a for a, _, _ in plan]
    assert scalar(url, VERSION) == "000"
    assert descriptors_checksum(url) == before
    assert column(
        url,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'flavor_descriptors' AND column_name = 'ai_extracted'",
    ) == ["ai_extracted"]
    assert scalar(url, "SELECT to_regclass('public.flavor_descriptors')") is not None
    assert scalar(url, "SELECT to_regproc('public.normalize_descriptor_text')") is None


PROTECTED = [
    "SELECT * FROM flavatix_migrations.alembic_version",
    "UPDATE flavatix_migrations.alembic_version SET version_num = '000'",
    "SELECT * FROM flavatix_migrations.migration_history",
    "DELETE FROM flavatix_migrations.migration_history",
    "SELECT * FROM public.verify_migrations()",
    "SELECT * FROM public.rollback_all_migrations()",
    "SELECT * FROM public.rollback_003_materialized_views()",
    "SELECT * FROM flavatix_migrations.rollback_steps",
]


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize("sql", PROTECTED)
def test_api_roles_cannot_reach_the_migration_state(
    supabase_head_db_url: str, role: str, sql: str
) -> None:
    assert sqlstate_of(supabase_head_db_url, sql, role=role) == "42501"


def test_no_grants_to_api_roles(supabase_head_db_url: str) -> None:
    granted = column(
        supabase_head_db_url,
        """SELECT p.oid::regprocedure::text FROM pg_proc p
           WHERE (p.proname LIKE 'rollback\\_%%' OR p.proname = 'verify_migrations'
                  OR p.pronamespace = 'flavatix_migrations'::regnamespace)
             AND (has_function_privilege('anon', p.oid, 'EXECUTE')
                  OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))""",
    )
    assert granted == []
    with connect(supabase_head_db_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.verify_migrations()")
        assert cur.fetchone() == (len(REVISIONS) + 2,)


def test_arguments_are_checked(head_db_url: str) -> None:
    assert (
        sqlstate_of(head_db_url, "SELECT * FROM public.rollback_003_materialized_views(NULL)")
        == "22004"
    )
    assert sqlstate_of(head_db_url, "SELECT * FROM public.rollback_all_migrations(NULL)") == "22004"
    with pytest.raises(psycopg2.Error):
        query(head_db_url, "SELECT * FROM flavatix_migrations.run_rollback('000', true, true, 'x')")
