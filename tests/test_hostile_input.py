"""Hostile input to every public SQL function: a clear error or a correct result, no side effect.

"Clear error" means a SQLSTATE outside classes XX (internal error), 42 (syntax
error or undefined object: a function that built SQL from its input) and 57
(statement cancelled: input that makes a function run for too long).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dbtools import SAMPLE_AUTH_USERS, catalog_snapshot, connect, execute, load_sample, query

FORBIDDEN_CLASSES = {"XX", "42", "57"}
SAMPLE_USER = "00000000-0000-4000-8000-000000000001"
FUZZ_SOURCE = "00000000-0000-4000-9999-000000000000"
LONG = "a" * 10_000
TEXTS = [
    None,
    "",
    "   ",
    LONG,
    "cherry " * 1_400,
    "e\u0301\u0301\u0301 cre\u0300me",  # combining marks
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u202eevil\u202c",  # RTL, override
    "\U0001f352\U0001f525\U0001f468\u200d\U0001f469\u200d\U0001f467",  # emoji, ZWJ
    "\x01\x07\x1b[31m\t\r\n\x7f",  # control characters (NUL cannot be sent as text)
    "x'); DROP TABLE public.flavor_descriptors; --",
    '"; SELECT pg_sleep(30); "',
    "nonsense",
    "%_\\",
    "$$; $fn$",
]
INTEGERS = [None, 0, -1, -2_147_483_648, 2_147_483_647]
# 5e-324 and 1e-310: subnormal, refused by pg_trgm's setting unless checked first.
FLOATS = [None, 0.0, -1.0, 1.5, float("nan"), float("inf"), float("-inf"), 1e308, 5e-324, 1e-310]
UUIDS = [None, "00000000-0000-0000-0000-000000000000", str(uuid.UUID(int=2**128 - 1))]
TIMESTAMPS = [None, "infinity", "-infinity", "294276-12-31", "4713-01-01 BC"]
JSON_TEXTS = [
    None,
    "{}",
    "[]",
    '"text"',
    "[1, 2]",
    "null",
    "[null]",
    '[{"text": null, "type": "aroma"}]',
    '[{"text": "x", "type": "aroma", "confidence": 1e400, "intensity": -0}]',
    '[{"text": "x", "type": "aroma", "intensity": 3.0000000000000001}]',
    '[{"text": "x", "type": "aroma", "ai_extracted": "yes"}]',
    '[{"text": {"nested": true}, "type": "aroma"}]',
    json.dumps([{"text": LONG, "type": "aroma"}]),
    json.dumps([{"text": "x", "type": "aroma", "category": ["Fruity"]}]),
    json.dumps([{"text": f"t{i}", "type": "aroma"} for i in range(1_001)]),
    "[" * 2_000 + "]" * 2_000,
    # malformed JSON: refused by the cast to jsonb, before the function runs
    '{"text": ',
    "[1,",
    "not json",
]
HOSTILE: dict[str, list[Any]] = {
    "text": TEXTS,
    "text[]": [None, [], [None], [""], [LONG], ["x'); --", "\u202e"]],
    "boolean": [None, True, False],
    "uuid[]": [None, [], [None], UUIDS[1:]],
    "integer": INTEGERS,
    "double precision": FLOATS,
    "uuid": UUIDS,
    "timestamp with time zone": TIMESTAMPS,
    "jsonb": JSON_TEXTS,
}
# An ordinary value per argument name, so one argument at a time can be hostile.
ORDINARY: dict[str, Any] = {
    "p_user_id": SAMPLE_USER,
    "p_source_id": FUZZ_SOURCE,
    "p_source_type": "quick_review",
    "p_descriptors": "[]",
    "p_descriptor_type": "aroma",
    "p_function": "fuzz",
    "p_argument": "p_x",
    "p_value": "x",
    "p_limit": 10,
    "p_cap": 100,
    "p_threshold": 0.5,
    "p_wheel_id": str(uuid.uuid4()),
}
ORDINARY_BY_TYPE: dict[str, Any] = {
    "text": "cherry",
    "integer": 5,
    "double precision": 0.5,
    "uuid": SAMPLE_USER,
    "timestamp with time zone": "2025-01-01",
    "jsonb": "[]",
    "text[]": ["Fruity"],
    "boolean": True,
    "uuid[]": [SAMPLE_USER],
}

FUNCTIONS = """
SELECT p.proname,
       coalesce(p.proargnames[1:p.pronargs], '{}'),
       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
  -- trigger functions cannot be called, only fired
  AND p.prorettype <> 'trigger'::regtype
  {executable}
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1
"""
PUBLIC_FUNCTIONS = FUNCTIONS.replace(
    "{executable}", "AND has_function_privilege('public', p.oid, 'EXECUTE')"
)
# For the API roles: every function, whether they may run it or not.
ALL_FUNCTIONS = FUNCTIONS.replace("{executable}", "")
# Everything about the descriptors except rows a fuzzed batch insert added.
UNTOUCHED_ROWS = f"""
SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), ''))
FROM public.flavor_descriptors AS t WHERE source_id <> '{FUZZ_SOURCE}'
"""


@pytest.fixture
def populated(head_db_url: str) -> str:
    load_sample(head_db_url, 2_000)
    execute(head_db_url, "SELECT public.refresh_descriptor_views()")
    return head_db_url


def calls(url: str, functions: str) -> Iterator[tuple[str, list[str], list[Any]]]:
    """(function, argument types, values): all NULL, then one hostile argument at a time."""
    for name, arg_names, arg_types in query(url, functions):
        ordinary = [
            ORDINARY.get(arg, ORDINARY_BY_TYPE[kind])
            for arg, kind in zip(arg_names, arg_types, strict=True)
        ]
        yield name, arg_types, [None] * len(arg_types)
        for i, kind in enumerate(arg_types):
            for value in HOSTILE[kind]:
                yield name, arg_types, [*ordinary[:i], value, *ordinary[i + 1 :]]


def call(
    cur: psycopg2.extensions.cursor, name: str, types: list[str], values: list[Any]
) -> str | None:
    """Run one call; the SQLSTATE it failed with, or None."""
    placeholders = ", ".join(f"%s::{kind}" for kind in types)
    try:
        cur.execute(f"SELECT * FROM public.{name}({placeholders})", values)
        cur.fetchall()
    except psycopg2.Error as exc:
        return exc.pgcode or "no SQLSTATE"
    return None


def sweep(
    cur: psycopg2.extensions.cursor, url: str, functions: str, allowed: frozenset[str] = frozenset()
) -> tuple[int, int, list[str]]:
    """Every call of calls(); how many, how many answered, and those that failed unclearly.

    ``allowed``: SQLSTATEs of a forbidden class that are a fine answer here.
    """
    bad: list[str] = []
    tried = answered = 0
    for name, types, values in calls(url, functions):
        tried += 1
        state = call(cur, name, types, values)
        answered += state is None
        if state is None or state in allowed:
            continue
        if state == "no SQLSTATE" or state[:2] in FORBIDDEN_CLASSES:
            shown = [v[:40] + "..." if isinstance(v, str) and len(v) > 40 else v for v in values]
            bad.append(f"{name}({shown}): SQLSTATE {state}")
    return tried, answered, bad


def test_every_public_function_survives_hostile_arguments(populated: str) -> None:
    url = populated
    catalog = catalog_snapshot(url)
    rows = query(url, UNTOUCHED_ROWS)
    functions = {name for name, *_ in query(url, PUBLIC_FUNCTIONS)}
    assert {"find_similar_descriptors", "batch_insert_descriptors"} <= functions
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET statement_timeout = '20s'")
        tried, _, bad = sweep(cur, url, PUBLIC_FUNCTIONS)
    assert tried > 500
    assert bad == []
    assert catalog_snapshot(url) == catalog
    assert query(url, UNTOUCHED_ROWS) == rows


# Wheels written by anyone but the user the sweep acts as.
OTHER_USERS_WHEELS = f"""
SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), ''))
FROM public.flavor_wheels AS t WHERE user_id IS DISTINCT FROM '{SAMPLE_USER}'
"""


@pytest.fixture
def supabase_populated(supabase_head_db_url: str) -> str:
    url = supabase_head_db_url
    execute(url, SAMPLE_AUTH_USERS)
    load_sample(url, 600)
    execute(url, "SELECT public.refresh_descriptor_views()")
    return url


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_every_function_survives_hostile_arguments_as_an_api_role(
    supabase_populated: str, role: str
) -> None:
    """The same sweep through the API: a refusal for lack of privilege (42501) is a fine answer."""
    url = supabase_populated
    catalog = catalog_snapshot(url)
    rows = query(url, UNTOUCHED_ROWS)
    wheels = query(url, OTHER_USERS_WHEELS)
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET statement_timeout = '20s'")
        if role == "authenticated":
            # auth.uid() is the sample user whose id ORDINARY passes as p_user_id.
            cur.execute("SELECT set_config('request.jwt.claim.sub', %s, false)", (SAMPLE_USER,))
        cur.execute(f"SET ROLE {role}")
        cur.execute("SELECT current_user, auth.uid()")
        assert cur.fetchone() == (role, SAMPLE_USER if role != "anon" else None)
        tried, answered, bad = sweep(cur, url, ALL_FUNCTIONS, allowed=frozenset({"42501"}))
    assert tried > 500
    # Not everything refused: normalize_descriptor_text answers anyone, and the
    # search and statistics functions answer a signed-in user.
    assert answered > (20 if role == "anon" else 200), answered
    assert bad == []
    assert catalog_snapshot(url) == catalog
    assert query(url, UNTOUCHED_ROWS) == rows
    assert query(url, OTHER_USERS_WHEELS) == wheels
    # What a batch insert added is the caller's own, and anon added nothing.
    added = query(
        url,
        "SELECT DISTINCT user_id::text FROM public.flavor_descriptors WHERE source_id = %s",
        (FUZZ_SOURCE,),
    )
    assert added == ([] if role == "anon" else [(SAMPLE_USER,)])


# --- properties -----------------------------------------------------------------------

# Text and jsonb cannot hold U+0000 and a lone surrogate is not UTF-8: the
# server refuses both (class 22) before any function sees them.
STORABLE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
SOME_TEXT = st.text(alphabet=STORABLE, max_size=60)
SHORT_TEXT = st.text(alphabet=STORABLE, max_size=3)
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def sqlstate(cur: psycopg2.extensions.cursor, sql: str, params: Any) -> tuple[str | None, Any]:
    try:
        cur.execute(sql, params)
        return None, cur.fetchall()
    except psycopg2.Error as exc:
        return exc.pgcode, None


@PROPERTY_SETTINGS
@given(text=SOME_TEXT)
def test_normalize_is_idempotent_lower_and_trimmed(head_db_url: str, text: str) -> None:
    with connect(head_db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT n, public.normalize_descriptor_text(n), lower(n) "
            "FROM public.normalize_descriptor_text(%s) AS n",
            (text,),
        )
        once, twice, lowered = cur.fetchone()  # type: ignore[misc]
    assert once == twice
    assert once == lowered
    assert once == once.strip(" ")
    assert "  " not in once


def test_normalize_keeps_null(head_db_url: str) -> None:
    assert query(head_db_url, "SELECT public.normalize_descriptor_text(NULL)") == [(None,)]


@PROPERTY_SETTINGS
@given(
    text=SOME_TEXT,
    threshold=st.floats(min_value=0, max_value=1, exclude_min=True),
    limit=st.integers(min_value=1, max_value=50),
)
def test_search_functions_answer_or_refuse_clearly(
    populated: str, text: str, threshold: float, limit: int
) -> None:
    with connect(populated) as conn, conn.cursor() as cur:
        searches = [
            (
                "SELECT * FROM public.find_similar_descriptors(%s, NULL, NULL, %s, %s)",
                (text, threshold, limit),
            ),
            (
                "SELECT * FROM public.autocomplete_descriptors(%s, NULL, NULL, NULL, %s)",
                (text, limit),
            ),
            ("SELECT * FROM public.suggest_descriptor_category(%s, %s)", (text, threshold)),
        ]
        blank = (
            text.strip() == ""
            or query(populated, "SELECT public.normalize_descriptor_text(%s) = ''", (text,))[0][0]
        )
        for sql, params in searches:
            state, rows = sqlstate(cur, sql, params)
            # Below the smallest normal real: refused (22023), as tested below.
            if blank or threshold < SMALLEST_NORMAL_REAL:
                assert state in (None, "22023"), (sql, text)
            else:
                assert state is None, (sql, text, state)
            if rows is not None and "suggest" not in sql:
                assert len(rows) <= limit


SMALLEST_NORMAL_REAL = 1.1754943508222875e-38
THRESHOLD_SEARCHES = [
    "SELECT * FROM public.find_similar_descriptors('cherry', p_similarity_threshold => %s)",
    "SELECT * FROM public.find_duplicate_descriptors(%s::uuid, %s)",
    "SELECT * FROM public.suggest_descriptor_category('cherry', %s)",
]


@PROPERTY_SETTINGS
@given(
    threshold=st.floats(
        min_value=0, max_value=SMALLEST_NORMAL_REAL, exclude_min=True, exclude_max=True
    )
)
def test_tiny_thresholds_get_the_packages_own_refusal(head_db_url: str, threshold: float) -> None:
    """Subnormal and other sub-real thresholds: 22023 naming p_similarity_threshold.

    pg_trgm's set_limit/similarity_threshold would refuse a subnormal value too,
    but naming its own setting, not the argument the caller passed.
    """
    with connect(head_db_url) as conn, conn.cursor() as cur:
        for sql in THRESHOLD_SEARCHES:
            params = (SAMPLE_USER, threshold) if "%s::uuid" in sql else (threshold,)
            try:
                cur.execute(sql, params)
            except psycopg2.Error as exc:
                message = str(exc.diag.message_primary)
                assert exc.pgcode == "22023", (sql, threshold, message)
                assert "p_similarity_threshold must be in (0, 1]" in message, sql
                assert "pg_trgm" not in message, sql
            else:
                raise AssertionError(f"{sql} accepted threshold {threshold!r}")


ELEMENT = st.one_of(
    st.fixed_dictionaries(
        {"text": SOME_TEXT, "type": st.sampled_from(["aroma", "flavor", "mouthfeel", "smell", ""])},
        optional={
            "confidence": st.one_of(st.floats(-2, 2), SHORT_TEXT, st.none()),
            "intensity": st.one_of(st.integers(-3, 8), st.floats(0, 6), st.none()),
            "category": st.one_of(SOME_TEXT, st.integers(), st.none()),
            "ai_extracted": st.one_of(st.booleans(), SHORT_TEXT),
        },
    ),
    st.integers(),
    SOME_TEXT,
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@PROPERTY_SETTINGS
@given(elements=st.lists(ELEMENT, max_size=12))
def test_batch_insert_accounts_for_every_element(head_db_url: str, elements: list[Any]) -> None:
    source = str(uuid.uuid4())
    with connect(head_db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT * FROM public.batch_insert_descriptors(%s::jsonb, %s, 'quick_review', %s)",
            (json.dumps(elements), SAMPLE_USER, source),
        )
        inserted, duplicates, errors, reasons = cur.fetchone()  # type: ignore[misc]
        cur.execute(
            "SELECT count(*) FROM public.flavor_descriptors WHERE source_id = %s", (source,)
        )
        stored = cur.fetchone()[0]  # type: ignore[index]
    assert inserted + duplicates + errors == len(elements)
    assert stored == inserted
    assert len(reasons) == errors
    for reason in reasons:
        assert 0 <= reason["index"] < len(elements)
        assert isinstance(reason["reason"], str) and reason["reason"]
