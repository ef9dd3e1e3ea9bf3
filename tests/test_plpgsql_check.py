"""plpgsql_check over every PL/pgSQL function in public at head: no errors, no unexplained warning.

Each function is checked with every warning enabled (other, extra, performance,
security). A trigger function is checked against the relation its triggers are
on, with the transition tables they declare.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dbtools import connect, execute
from tests.handbuilt import load_handbuilt

CHECK = """
WITH targets AS (
    SELECT p.oid AS fn, p.prorettype = 'trigger'::regtype AS is_trigger, t.tgrelid AS rel,
           max(t.tgoldtable) AS oldtable, max(t.tgnewtable) AS newtable
    FROM pg_proc p
    LEFT JOIN pg_trigger t ON t.tgfoid = p.oid AND NOT t.tgisinternal
    WHERE p.pronamespace = 'public'::regnamespace
      AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
    GROUP BY p.oid, t.tgrelid
)
SELECT g.fn::regprocedure::text, g.is_trigger, g.rel::regclass::text,
       r.level, r.message, r.lineno, r.statement, r.detail
FROM targets g
LEFT JOIN LATERAL plpgsql_check_function_tb(
    g.fn, coalesce(g.rel, 0), fatal_errors => false, all_warnings => true,
    oldtable => g.oldtable, newtable => g.newtable) r ON NOT g.is_trigger OR g.rel IS NOT NULL
ORDER BY 1, 6
"""

# (function, message) -> (the databases it is expected on, why it stays).
ALLOWED: dict[tuple[str, str], tuple[set[str], str]] = {
    (
        "autocomplete_descriptors(text,uuid,text,text,integer)",
        "routine is marked as VOLATILE, should be STABLE",
    ): (
        {"plain", "supabase"},
        "called once per request, in FROM, and PL/pgSQL is never inlined: STABLE would "
        "only spare a fresh snapshot for each statement inside it. Its siblings in 002 "
        "(find_similar_descriptors, find_duplicate_descriptors, "
        "suggest_descriptor_category) are VOLATILE too.",
    ),
    ("flavatix_statement_stats()", 'OUT variable "*" is maybe unmodified'): (
        {"plain", "supabase"},
        "RETURN QUERY EXECUTE fills every column; the query is dynamic because "
        "pg_stat_statements' column names differ across versions, so the checker "
        "cannot see the columns it returns.",
    ),
    ("flavatix_caller_user(uuid,text)", 'schema "auth" does not exist'): (
        {"plain"},
        "auth.uid() is called only after to_regprocedure('auth.uid()') found it, i.e. "
        "on Supabase; on the Supabase stand-in the same function checks clean.",
    ),
}


# refresh_descriptor_views() works in temporary tables it creates (dropped at
# commit): one incremental refresh first, in the checking transaction, so the
# checker reads its statements against the tables they really use.
ONE_CHANGE = (
    "UPDATE public.flavor_descriptors SET intensity = coalesce(intensity, 0) % 5 + 1 "
    "WHERE id = (SELECT id FROM public.flavor_descriptors LIMIT 1)"
)


def findings(url: str, supabase: bool) -> list[Any]:
    execute(url, "CREATE EXTENSION plpgsql_check")
    load_handbuilt(url, supabase=supabase)
    execute(url, "SELECT public.refresh_descriptor_views(true)")
    execute(url, ONE_CHANGE)
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SELECT public.refresh_descriptor_views()")
        cur.execute(CHECK)
        rows = cur.fetchall()
        conn.rollback()
    return rows


@pytest.mark.parametrize("kind", ["plain", "supabase"])
def test_every_plpgsql_function_checks_clean(
    kind: str, head_db_url: str, supabase_head_db_url: str
) -> None:
    url = head_db_url if kind == "plain" else supabase_head_db_url
    rows = findings(url, supabase=kind == "supabase")
    functions = {row[0] for row in rows}
    assert len(functions) >= 20, functions
    unattached = [row[0] for row in rows if row[1] and row[2] is None]
    assert unattached == [], "trigger functions no trigger uses, so they cannot be checked"
    assert {"flavor_descriptors_count_changes()", "update_updated_at_column()"} <= functions

    # One entry covers every OUT column of a function filled by dynamic SQL.
    found = {
        (row[0], re.sub(r'OUT variable "[^"]+"', 'OUT variable "*"', row[4])): row
        for row in rows
        if row[3] is not None
    }
    if kind == "supabase":  # where the functions run: not one error
        assert [row for row in found.values() if row[3] == "error"] == []
    unexplained = [row for key, row in found.items() if key not in ALLOWED]
    assert unexplained == [], unexplained
    expected_here = {key for key, (kinds, _) in ALLOWED.items() if kind in kinds}
    assert set(found) == expected_here, "an allow-list entry no longer applies: remove it"
