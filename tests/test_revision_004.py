"""Revision 004: keyset pages, batch insert, wheels, statistics, hints."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from flavatix_db import migrations
from tests.dbtools import (
    catalog_snapshot,
    column,
    connect,
    descriptors_checksum,
    execute,
    load_sample,
    query,
    scalar,
)
from tests.handbuilt import (
    USER_A,
    USER_B,
    USER_EMPTY,
    call_as,
    error_of,
    load_handbuilt,
    sqlstate_of,
)

FUNCTIONS_004 = (
    "get_descriptors_paginated",
    "wheel_needs_regeneration",
    "get_wheel_data_fast",
    "batch_insert_descriptors",
    "get_user_descriptor_stats",
    "get_top_descriptors",
    "get_descriptor_timeline",
    "estimate_descriptor_count",
)
PAGER = "00000000-0000-4000-8000-00000000cccc"


def refresh(url: str) -> None:
    execute(url, "SELECT public.refresh_descriptor_views()")


@pytest.fixture
def refreshed(head_db_url: str) -> str:
    load_handbuilt(head_db_url)
    refresh(head_db_url)
    return head_db_url


def test_catalog_after_upgrade(head_db_url: str) -> None:
    snap = catalog_snapshot(head_db_url)
    assert dict(snap["indexes"])["ix_flavor_descriptors_user_created_id"].endswith(
        "(user_id, created_at DESC, id DESC)"
    )
    assert snap["invalid_indexes"] == []
    sources = dict(
        query(
            head_db_url,
            "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "AND proname = ANY(%s)",
            (list(FUNCTIONS_004),),
        )
    )
    assert set(sources) == set(FUNCTIONS_004)
    # Nothing here runs dynamic SQL, let alone text a caller passes in.
    assert not [name for name, src in sources.items() if "EXECUTE" in src.upper()]
    assert scalar(head_db_url, "SELECT to_regproc('public.analyze_query_performance')") is None
    hints = dict(
        query(head_db_url, "SELECT query_type, use_pagination FROM public.query_performance_hints")
    )
    assert {
        "wheel_generation",
        "descriptor_page",
        "autocomplete",
        "user_statistics",
        "similarity_search",
        "duplicate_detection",
    } <= hints.keys()
    assert hints["descriptor_page"] is True


@pytest.fixture
def paged(head_plain_db_url: str) -> tuple[str, list[str]]:
    """PAGER's 12 rows: 7 share one created_at, one has none; their expected order.

    On the plain table: once partitioned, no row can lack a created_at.
    """
    head_db_url = head_plain_db_url
    execute(
        head_db_url,
        "INSERT INTO public.flavor_descriptors (id, user_id, source_type, source_id, "
        "descriptor_text, descriptor_type, category, created_at) "
        "SELECT gen_random_uuid(), %s, 'quick_tasting', gen_random_uuid(), 'note ' || g, "
        "CASE WHEN g %% 2 = 0 THEN 'aroma' ELSE 'flavor' END, 'Fruity', "
        "CASE WHEN g <= 7 THEN timestamptz '2025-05-01 12:00+00' "
        "     WHEN g = 12 THEN NULL "
        "     ELSE timestamptz '2025-05-01 12:00+00' + (g - 7) * interval '1 hour' END "
        "FROM generate_series(1, 12) g",
        (PAGER,),
    )
    order = [
        r[0]
        for r in query(
            head_db_url,
            "SELECT id::text FROM public.flavor_descriptors WHERE user_id = %s "
            "ORDER BY created_at DESC NULLS LAST, id DESC",
            (PAGER,),
        )
    ]
    return head_db_url, order


def page(url: str, *args: Any, **named: Any) -> list[tuple[str, Any, bool]]:
    params = ", ".join(f"{k} => %({k})s" for k in named)
    sql = (
        "SELECT id::text, created_at, has_more FROM public.get_descriptors_paginated("
        + ", ".join(["%(user)s", *([params] if params else [])])
        + ")"
    )
    return [tuple(r) for r in query(url, sql, {"user": args[0], **named})]


def test_pages_walk_forward_and_back_through_ties(paged: tuple[str, list[str]]) -> None:
    url, order = paged
    seen: list[str] = []
    pages: list[list[tuple[str, Any, bool]]] = []
    cursor: dict[str, Any] = {}
    while True:
        rows = page(url, PAGER, p_limit=5, **cursor)
        pages.append(rows)
        seen += [r[0] for r in rows]
        if not rows[-1][2]:
            break
        cursor = {"p_cursor_id": rows[-1][0], "p_cursor_created_at": rows[-1][1]}
    assert seen == order  # every row once, in order, across 7 equal created_at and a NULL
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [p[-1][2] for p in pages] == [True, True, False]
    # Backward from the first row of the last page gives the page before it.
    last_first = pages[2][0]
    back = page(
        url,
        PAGER,
        p_limit=5,
        p_direction="backward",
        p_cursor_id=last_first[0],
        p_cursor_created_at=last_first[1],
    )
    assert [r[0] for r in back] == [r[0] for r in pages[1]]
    assert back[0][2] is True  # newer rows remain
    top = page(
        url,
        PAGER,
        p_limit=5,
        p_direction="backward",
        p_cursor_id=pages[1][0][0],
        p_cursor_created_at=pages[1][0][1],
    )
    assert [r[0] for r in top] == [r[0] for r in pages[0]]
    assert top[0][2] is False


def test_every_row_as_cursor_pages_both_ways_in_one_session(
    paged: tuple[str, list[str]],
) -> None:
    """One session, so the cached generic plans answer every cursor, NULL created_at too."""
    url, order = paged
    at = dict(query(url, "SELECT id::text, created_at FROM public.flavor_descriptors"))
    sql = (
        "SELECT id::text FROM public.get_descriptors_paginated(%s, p_cursor_id => %s, "
        "p_cursor_created_at => %s, p_limit => 3, p_direction => %s)"
    )
    with connect(url) as conn, conn.cursor() as cur:
        for position, row_id in enumerate(order):
            for direction, expected in (
                ("forward", order[position + 1 : position + 4]),
                ("backward", order[max(0, position - 3) : position]),
            ):
                cur.execute(sql, (PAGER, row_id, at[row_id], direction))
                assert [r[0] for r in cur.fetchall()] == expected, (position, direction)


def test_pages_filter_by_type_and_category(paged: tuple[str, list[str]]) -> None:
    url, order = paged
    aroma = page(url, PAGER, p_descriptor_type="aroma", p_limit=50)
    assert len(aroma) == 6
    assert [r[0] for r in aroma] == [i for i in order if i in {r[0] for r in aroma}]
    assert page(url, PAGER, p_category="Woody") == []
    assert page(url, USER_EMPTY) == []
    capped = page(url, PAGER, p_limit=1_000_000)
    assert len(capped) == 12
    # Filtered pages are planned per call; the caller's setting is left as it was.
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM public.get_descriptors_paginated(%s, 'aroma', 'Fruity')",
            (PAGER,),
        )
        assert cur.fetchone() == (6,)
        cur.execute("SHOW plan_cache_mode")
        assert cur.fetchone() == ("auto",)


def test_batch_insert_dedupes_and_reports_bad_elements(refreshed: str) -> None:
    source = str(uuid.uuid4())
    batch = [
        {"text": "Smoke", "type": "aroma", "category": "Smoky", "intensity": 4},
        {"text": "  SMOKE ", "type": "aroma"},  # same normalized form: duplicate
        {"text": "Smoke", "type": "flavor", "confidence": 0.85, "ai_extracted": True},
        {"text": "", "type": "aroma"},
        {"text": "peat", "type": "smell"},
        {"text": "peat", "type": "aroma", "intensity": 2.5},
        {"text": "peat", "type": "aroma", "confidence": "high"},
        "peat",
        {"text": "Pêche", "type": "aroma", "item_name": "Oban 14", "extraction_model": "m1"},
    ]
    sql = (
        "SELECT inserted_count, duplicate_count, error_count, errors "
        "FROM public.batch_insert_descriptors(%s::jsonb, %s, 'quick_review', %s)"
    )
    rows = query(refreshed, sql, (json.dumps(batch), USER_B, source))
    inserted, duplicates, errors, reasons = rows[0]
    assert (inserted, duplicates, errors) == (3, 1, 5)
    assert [e["index"] for e in reasons] == [3, 4, 5, 6, 7]
    assert "text" in reasons[0]["reason"]
    assert "type" in reasons[1]["reason"]
    assert "intensity" in reasons[2]["reason"]
    assert "confidence" in reasons[3]["reason"]
    stored = query(
        refreshed,
        "SELECT descriptor_text, descriptor_type, confidence_score, ai_extracted "
        "FROM public.flavor_descriptors WHERE source_id = %s ORDER BY 1, 2",
        (source,),
    )
    assert [(t, k) for t, k, *_ in stored] == [
        ("Pêche", "aroma"),
        ("Smoke", "aroma"),
        ("Smoke", "flavor"),
    ]
    assert (float(stored[2][2]), stored[2][3]) == (0.85, True)
    # The same batch again: nothing new, every good element a duplicate of a stored row.
    again = query(refreshed, sql, (json.dumps(batch), USER_B, source))[0]
    assert again[:3] == (0, 4, 5)
    assert query(refreshed, sql, ("[]", USER_B, source))[0][:3] == (0, 0, 0)


def test_user_statistics(refreshed: str) -> None:
    stats = scalar(refreshed, "SELECT public.get_user_descriptor_stats(%s)", (USER_A,))
    assert stats["totalDescriptors"] == 12
    assert stats["uniqueDescriptors"] == 7
    assert stats["byType"] == {
        "aroma": 7,
        "flavor": 4,
        "texture": 1,
        "defect": 0,
        "metaphor": 0,
        "mouthfeel": 0,
    }
    assert (stats["sources"], stats["categories"]) == (5, 3)
    assert (stats["aiExtracted"], stats["keywordExtracted"]) == (0, 12)
    assert stats["latestDescriptorAt"].startswith("2025-03-05T10:00:00")
    assert stats["cache"]["source"] == "mv_wheel_generation_stats"
    empty = scalar(refreshed, "SELECT public.get_user_descriptor_stats(%s)", (USER_EMPTY,))
    assert (empty["totalDescriptors"], empty["latestDescriptorAt"]) == (0, None)


def test_top_descriptors(refreshed: str) -> None:
    overall = query(refreshed, "SELECT * FROM public.get_top_descriptors(p_limit => 3)")
    assert [(r[0], r[1], r[3]) for r in overall] == [
        ("cherry", "aroma", 5),
        ("Crème Brûlée", "flavor", 3),
        ("cherrry", "aroma", 1),  # first of the forms used once, by normalized form
    ]
    assert [r[3] for r in overall] == [5, 3, 1]
    assert float(overall[0][4]) == 3.4  # (3 + 5 + 4 + 4 + 1) / 5
    mine = query(
        refreshed,
        "SELECT descriptor_text, category, usage_count FROM public.get_top_descriptors(%s, "
        "'aroma', ' fruity ')",
        (USER_A,),
    )
    assert mine == [("cherry", "Fruity", 4), ("cherrry", "Fruity", 1)]
    assert query(refreshed, "SELECT * FROM public.get_top_descriptors(%s)", (USER_EMPTY,)) == []


def test_timeline_counts_utc_days_newest_first(head_db_url: str) -> None:
    execute(
        head_db_url,
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type, created_at) "
        "SELECT %s, 'quick_tasting', gen_random_uuid(), t, 'aroma', at "
        "FROM (VALUES ('a', now()), ('a', now()), ('b', now()), "
        "('a', now() - interval '1 day'), ('c', now() - interval '40 days')) v(t, at)",
        (PAGER,),
    )
    rows = query(
        head_db_url,
        "SELECT day, descriptor_count, unique_descriptors "
        "FROM public.get_descriptor_timeline(%s, 30)",
        (PAGER,),
    )
    today = scalar(head_db_url, "SELECT (now() AT TIME ZONE 'UTC')::date")
    assert [(r[1], r[2]) for r in rows] == [(3, 2), (1, 1)]
    assert rows[0][0] == today
    assert len(query(head_db_url, "SELECT * FROM public.get_descriptor_timeline(%s, 1)", (PAGER,)))
    assert (
        query(
            head_db_url, "SELECT * FROM public.get_descriptor_timeline(%s, 30, 'flavor')", (PAGER,)
        )
        == []
    )
    assert scalar(head_db_url, "SELECT public.estimate_descriptor_count(%s)", (PAGER,)) == 5


def test_wheel_regeneration_and_fast_wheels(refreshed: str) -> None:
    url = refreshed

    def wheel_row(user: str | None, scope: str, generated: str, expires: str | None) -> str:
        return str(
            scalar(
                url,
                "INSERT INTO public.flavor_wheels (user_id, wheel_type, scope_type, "
                "scope_filter, wheel_data, generated_at, expires_at) VALUES (%s, 'combined', "
                "%s, %s, '{\"cached\": true}', now() - %s::interval, now() + %s::interval) "
                "RETURNING id",
                (user, scope, json.dumps({"item_category": "whiskey"}), generated, expires),
            )
        )

    expired = wheel_row(USER_A, "personal", "1 hour", "-1 minute")
    fresh = wheel_row(USER_B, "personal", "1 minute", "7 days")
    old_quiet = wheel_row(USER_EMPTY, "personal", "2 hours", None)
    old_busy = wheel_row(USER_A, "personal", "3 years", None)
    check = "SELECT public.wheel_needs_regeneration(%s, %s)"
    assert scalar(url, check, (expired, 30)) is True
    assert scalar(url, check, (fresh, 30)) is False
    assert scalar(url, check, (old_quiet, 30)) is False  # old, but nothing new since
    assert scalar(url, check, (old_busy, 30)) is True  # A wrote descriptors since
    assert scalar(url, check, (old_busy, 60 * 24 * 365 * 4)) is False
    # A's personal wheel: the cached one expired, the other has no expiry -> cached.
    assert scalar(url, "SELECT public.get_wheel_data_fast(%s)", (USER_A,)) == {"cached": True}
    computed = scalar(url, "SELECT public.get_wheel_data_fast(%s, 'aroma')", (USER_A,))
    assert computed["totalDescriptors"] == 7
    universal = scalar(url, "SELECT public.get_wheel_data_fast(NULL, 'flavor', 'universal')")
    assert universal["totalDescriptors"] == 5
    whiskey = scalar(
        url, "SELECT public.get_wheel_data_fast(NULL, 'combined', 'category', 'whiskey')"
    )
    assert whiskey["totalDescriptors"] == 13
    wine = scalar(url, "SELECT public.get_wheel_data_fast(NULL, 'combined', 'category', 'wine')")
    assert (wine["categories"], wine["totalDescriptors"]) == ([], 0)


@pytest.mark.parametrize(
    ("sql", "sqlstate", "argument"),
    [
        ("SELECT * FROM public.get_descriptors_paginated(NULL)", "22004", "p_user_id"),
        (
            f"SELECT * FROM public.get_descriptors_paginated('{USER_A}', p_limit => 0)",
            "22023",
            "p_limit",
        ),
        (
            f"SELECT * FROM public.get_descriptors_paginated('{USER_A}', p_limit => -1)",
            "22023",
            "p_limit",
        ),
        (
            f"SELECT * FROM public.get_descriptors_paginated('{USER_A}', p_direction => 'up')",
            "22023",
            "p_direction",
        ),
        (
            f"SELECT * FROM public.get_descriptors_paginated('{USER_A}', 'smell')",
            "22023",
            "p_descriptor_type",
        ),
        (
            f"SELECT * FROM public.get_descriptors_paginated('{USER_A}', "
            "p_cursor_created_at => now())",
            "22004",
            "p_cursor_id",
        ),
        ("SELECT public.wheel_needs_regeneration(NULL)", "22004", "p_wheel_id"),
        ("SELECT public.wheel_needs_regeneration(gen_random_uuid())", "P0002", "p_wheel_id"),
        (
            "SELECT public.wheel_needs_regeneration(gen_random_uuid(), -1)",
            "22023",
            "p_threshold_minutes",
        ),
        ("SELECT public.get_wheel_data_fast(NULL)", "22004", "p_user_id"),
        (f"SELECT public.get_wheel_data_fast('{USER_A}', 'texture')", "22023", "p_wheel_type"),
        (
            f"SELECT public.get_wheel_data_fast('{USER_A}', 'aroma', 'tasting')",
            "22023",
            "p_scope_type",
        ),
        (
            "SELECT public.get_wheel_data_fast(NULL, 'aroma', 'category')",
            "22004",
            "p_item_category",
        ),
        (
            f"SELECT * FROM public.batch_insert_descriptors(NULL, '{USER_A}', 'quick_review', "
            "gen_random_uuid())",
            "22004",
            "p_descriptors",
        ),
        (
            f"SELECT * FROM public.batch_insert_descriptors('{{}}', '{USER_A}', 'quick_review', "
            "gen_random_uuid())",
            "22023",
            "p_descriptors",
        ),
        (
            "SELECT * FROM public.batch_insert_descriptors('[]', NULL, 'quick_review', "
            "gen_random_uuid())",
            "22004",
            "p_user_id",
        ),
        (
            f"SELECT * FROM public.batch_insert_descriptors('[]', '{USER_A}', 'tweet', "
            "gen_random_uuid())",
            "22023",
            "p_source_type",
        ),
        (
            f"SELECT * FROM public.batch_insert_descriptors('[]', '{USER_A}', 'quick_review', "
            "NULL)",
            "22004",
            "p_source_id",
        ),
        ("SELECT public.get_user_descriptor_stats(NULL)", "22004", "p_user_id"),
        ("SELECT * FROM public.get_top_descriptors(p_limit => 0)", "22023", "p_limit"),
        ("SELECT * FROM public.get_top_descriptors(NULL, 'smell')", "22023", "p_descriptor_type"),
        ("SELECT * FROM public.get_top_descriptors(NULL, NULL, '')", "22023", "p_category"),
        (f"SELECT * FROM public.get_descriptor_timeline('{USER_A}', 0)", "22023", "p_days"),
        (f"SELECT * FROM public.get_descriptor_timeline('{USER_A}', NULL)", "22004", "p_days"),
        ("SELECT * FROM public.get_descriptor_timeline(NULL)", "22004", "p_user_id"),
    ],
)
def test_bad_input_is_a_clear_error(refreshed: str, sql: str, sqlstate: str, argument: str) -> None:
    code, message = error_of(refreshed, sql)
    assert code == sqlstate
    assert argument in message


def test_downgrade_to_003_and_upgrade_again_keeps_every_row(head_db_url: str) -> None:
    load_sample(head_db_url, 2000)
    load_handbuilt(head_db_url)
    before = descriptors_checksum(head_db_url)
    migrations.downgrade(head_db_url, "003")
    assert descriptors_checksum(head_db_url) == before
    snap = catalog_snapshot(head_db_url)
    assert "ix_flavor_descriptors_user_created_id" not in dict(snap["indexes"])
    assert ("query_performance_hints", "r") not in snap["relations"]
    migrations.upgrade(head_db_url, "head")
    assert descriptors_checksum(head_db_url) == before
    assert len(page(head_db_url, USER_A, p_limit=100)) == 12


@pytest.fixture
def supabase_refreshed(supabase_head_db_url: str) -> str:
    load_handbuilt(supabase_head_db_url, supabase=True)
    refresh(supabase_head_db_url)
    return supabase_head_db_url


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM public.get_descriptors_paginated(%s)",
        "SELECT public.get_user_descriptor_stats(%s)",
        "SELECT * FROM public.get_top_descriptors(%s)",
        "SELECT * FROM public.get_descriptor_timeline(%s, 3650)",
        "SELECT public.estimate_descriptor_count(%s)",
        "SELECT public.get_wheel_data_fast(%s)",
        "SELECT * FROM public.batch_insert_descriptors("
        '\'[{"text": "x", "type": "aroma"}]\', %s, \'quick_review\', gen_random_uuid())',
    ],
)
def test_p_user_id_is_no_way_around_row_level_security(supabase_refreshed: str, sql: str) -> None:
    url = supabase_refreshed
    assert sqlstate_of(url, sql, (USER_B,), role="authenticated", sub=USER_A) == "42501"
    assert sqlstate_of(url, sql, (USER_B,), role="anon") == "42501"
    assert call_as(url, sql, (USER_A,), role="authenticated", sub=USER_A)


def test_signed_in_user_reads_only_their_own_rows(supabase_refreshed: str) -> None:
    url = supabase_refreshed
    as_a = {"role": "authenticated", "sub": USER_A}
    top = call_as(url, "SELECT descriptor_text FROM public.get_top_descriptors()", **as_a)
    assert ("secret note",) not in top
    assert ("Chérry Pie",) not in top
    assert call_as(url, "SELECT public.estimate_descriptor_count()", **as_a) == [(12,)]
    b_wheel = scalar(
        url,
        "INSERT INTO public.flavor_wheels (user_id, wheel_type, scope_type, wheel_data) "
        "VALUES (%s, 'aroma', 'personal', '{}') RETURNING id::text",
        (USER_B,),
    )
    # Row level security hides B's wheel from A: it does not exist for A.
    assert (
        sqlstate_of(url, "SELECT public.wheel_needs_regeneration(%s)", (b_wheel,), **as_a)
        == "P0002"
    )
    assert call_as(url, "SELECT count(*) FROM public.query_performance_hints", **as_a)[0][0] > 0
    assert (
        sqlstate_of(
            url, "DELETE FROM public.query_performance_hints", role="authenticated", sub=USER_A
        )
        == "42501"
    )
    inserted = call_as(
        url,
        "SELECT inserted_count FROM public.batch_insert_descriptors("
        '\'[{"text": "Smoke", "type": "aroma"}]\', %s, \'quick_review\', '
        "gen_random_uuid())",
        (USER_A,),
        **as_a,
    )
    assert inserted == [(1,)]  # for themselves, under the insert policy


def test_every_recommended_index_exists(head_db_url: str) -> None:
    names = column(
        head_db_url,
        "SELECT DISTINCT unnest(recommended_indexes) FROM public.query_performance_hints",
    )
    assert len(names) >= 5
    missing = [
        n for n in names if scalar(head_db_url, "SELECT to_regclass(%s)", (f"public.{n}",)) is None
    ]
    assert missing == []
