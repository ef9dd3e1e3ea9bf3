"""Row level security on the Supabase stand-in: the tables' policies and the hints table."""

from __future__ import annotations

from typing import Any

import pytest

from flavatix_db import migrations
from tests.dbtools import execute, query, run_alembic, scalar
from tests.handbuilt import USER_A, USER_B, call_as, load_handbuilt, sqlstate_of

HINTS = "query_performance_hints"
ONCE_PER_STATEMENT = "( SELECT auth.uid() AS uid)"
POLICIES = """
SELECT tablename, policyname, qual, with_check FROM pg_policies
WHERE schemaname = 'public' AND tablename IN ('flavor_descriptors', 'flavor_wheels')
ORDER BY 1, 2
"""


def policies(url: str) -> list[Any]:
    return query(url, POLICIES)


def test_every_policy_calls_auth_uid_once_per_statement(supabase_head_db_url: str) -> None:
    rows = policies(supabase_head_db_url)
    assert len(rows) == 8
    for table, name, qual, with_check in rows:
        expressions = [e for e in (qual, with_check) if e is not None]
        assert expressions, name
        for expression in expressions:
            assert ONCE_PER_STATEMENT in expression, (table, name, expression)
            # No bare auth.uid() left beside the subquery.
            assert "auth.uid()" not in expression.replace(ONCE_PER_STATEMENT, ""), expression


def test_001_downgrade_puts_back_the_baseline_policies(supabase_empty_db_url: str) -> None:
    url = supabase_empty_db_url
    migrations.upgrade(url, "000")
    baseline = policies(url)
    assert len(baseline) == 8
    assert all(ONCE_PER_STATEMENT not in str(row) for row in baseline)
    migrations.upgrade(url, "001")
    rewritten = policies(url)
    assert [row[:2] for row in rewritten] == [row[:2] for row in baseline]
    assert all(ONCE_PER_STATEMENT in str(row) for row in rewritten)
    # Re-runnable: applying 001 again over itself changes nothing.
    assert run_alembic(url, "stamp", "000").returncode == 0
    assert run_alembic(url, "upgrade", "001").returncode == 0
    assert policies(url) == rewritten
    migrations.downgrade(url, "000")
    assert policies(url) == baseline


@pytest.fixture
def two_users(supabase_head_db_url: str) -> str:
    url = supabase_head_db_url
    load_handbuilt(url, supabase=True)
    execute(
        url,
        "INSERT INTO public.flavor_wheels (user_id, wheel_type, scope_type, wheel_data) "
        "VALUES (%s, 'aroma', 'personal', '{}'), (%s, 'aroma', 'personal', '{}'), "
        "(NULL, 'aroma', 'universal', '{}')",
        (USER_A, USER_B),
    )
    return url


def test_a_user_still_sees_and_changes_only_their_own_rows(two_users: str) -> None:
    url = two_users
    as_a = {"role": "authenticated", "sub": USER_A}
    owners = call_as(url, "SELECT DISTINCT user_id::text FROM public.flavor_descriptors", **as_a)
    assert owners == [(USER_A,)]
    assert call_as(url, "SELECT count(*) FROM public.flavor_descriptors", **as_a) == [(12,)]
    wheels = call_as(
        url, "SELECT user_id::text, scope_type FROM public.flavor_wheels ORDER BY 1", **as_a
    )
    assert wheels == [(USER_A, "personal"), (None, "universal")]
    # B's rows are invisible to A's updates and deletes, and A cannot write as B.
    changed = call_as(
        url,
        "UPDATE public.flavor_descriptors SET intensity = 1 WHERE user_id = %s RETURNING id",
        (USER_B,),
        **as_a,
    )
    assert changed == []
    assert (
        call_as(
            url,
            "DELETE FROM public.flavor_wheels WHERE user_id = %s RETURNING id",
            (USER_B,),
            **as_a,
        )
        == []
    )
    insert_as_b = (
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (%s, 'quick_tasting', gen_random_uuid(), "
        "'smoke', 'aroma')"
    )
    assert sqlstate_of(url, insert_as_b, (USER_B,), **as_a) == "42501"
    assert call_as(url, insert_as_b + " RETURNING user_id::text", (USER_A,), **as_a) == [(USER_A,)]
    assert call_as(url, "SELECT count(*) FROM public.flavor_descriptors", role="anon") == [(0,)]


# --- query_performance_hints: row level security, read-only for signed-in users ----------


def test_hints_table_has_row_level_security(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    assert scalar(url, "SELECT relrowsecurity FROM pg_class WHERE relname = %s", (HINTS,))
    assert query(
        url,
        "SELECT policyname, cmd, qual FROM pg_policies WHERE tablename = 'query_performance_hints'",
    ) == [("query_performance_hints_read", "SELECT", "true")]


@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_hints_are_read_only_for_the_application(supabase_head_db_url: str, role: str) -> None:
    url = supabase_head_db_url
    n = scalar(url, "SELECT count(*) FROM public.query_performance_hints")
    assert n > 0
    assert call_as(
        url, "SELECT count(*) FROM public.query_performance_hints", role=role, sub=USER_A
    ) == [(n,)]
    for sql in (
        "INSERT INTO public.query_performance_hints (query_type, description) VALUES ('x', 'y')",
        "UPDATE public.query_performance_hints SET notes = 'changed'",
        "DELETE FROM public.query_performance_hints",
        "TRUNCATE public.query_performance_hints",
    ):
        assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501", sql


def test_anon_cannot_read_or_write_hints(supabase_head_db_url: str) -> None:
    url = supabase_head_db_url
    for sql in (
        "SELECT count(*) FROM public.query_performance_hints",
        "UPDATE public.query_performance_hints SET notes = 'changed'",
    ):
        assert sqlstate_of(url, sql, role="anon") == "42501", sql


def test_hints_stay_readable_by_everyone_on_plain_postgresql(head_db_url: str) -> None:
    # No Supabase auth schema: any role may read, only the owner writes.
    execute(head_db_url, "DROP ROLE IF EXISTS fx_reader; CREATE ROLE fx_reader")
    try:
        assert call_as(
            head_db_url, "SELECT count(*) > 0 FROM public.query_performance_hints", role="fx_reader"
        ) == [(True,)]
        assert (
            sqlstate_of(head_db_url, "DELETE FROM public.query_performance_hints", role="fx_reader")
            == "42501"
        )
    finally:
        execute(head_db_url, "DROP ROLE fx_reader")


def test_no_table_the_api_roles_can_read_lacks_row_level_security(
    supabase_head_db_url: str,
) -> None:
    # What Supabase's linter reports as rls_disabled_in_public (an ERROR).
    exposed = query(
        supabase_head_db_url,
        """SELECT n.nspname || '.' || c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
             AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auth', 'extensions')
             AND (has_table_privilege('anon', c.oid, 'SELECT')
                  OR has_table_privilege('authenticated', c.oid, 'SELECT'))
           ORDER BY 1""",
    )
    assert exposed == []
