"""Revision 003: materialized views, change tracking, refresh, wheel generation."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from flavatix_db import migrations
from flavatix_db.mixed_changes import COUNTS
from tests.dbtools import (
    catalog_snapshot,
    descriptors_checksum,
    execute,
    load_sample,
    query,
    scalar,
)
from tests.handbuilt import (
    SEARCH_VIEWS,
    USER_A,
    USER_B,
    USER_EMPTY,
    call_as,
    error_of,
    load_handbuilt,
    sqlstate_of,
)

VIEWS = (
    "mv_user_descriptor_summary",
    "mv_global_descriptor_stats",
    "mv_category_descriptor_summary",
    "mv_wheel_generation_stats",
)


def refresh(url: str) -> None:
    execute(url, "SELECT public.refresh_descriptor_views()")


def wheel(url: str, *args: Any) -> dict[str, Any]:
    placeholders = ", ".join(["%s"] * len(args))
    value = scalar(url, f"SELECT public.generate_wheel_data_optimized({placeholders})", args)
    assert isinstance(value, dict)
    return value


@pytest.fixture
def refreshed(head_db_url: str) -> str:
    load_handbuilt(head_db_url)
    refresh(head_db_url)
    return head_db_url


def test_catalog_after_upgrade(head_db_url: str) -> None:
    snap = catalog_snapshot(head_db_url)
    for view in VIEWS:
        assert (view, "r") in snap["relations"]
        indexdef = dict(snap["indexes"])[f"ux_{view}_key"]
        assert "UNIQUE" in indexdef
        assert "NULLS NOT DISTINCT" in indexdef
    assert ("mv_refresh_status", "v") in snap["relations"]
    assert ("mv_refresh_log", "r") in snap["relations"]
    assert ("mv_refresh_changes", "r") in snap["relations"]
    triggers = {name for table, name, _ in snap["triggers"] if table == "flavor_descriptors"}
    assert {
        "flavor_descriptors_count_inserts",
        "flavor_descriptors_count_updates",
        "flavor_descriptors_count_deletes",
    } <= triggers
    assert query(head_db_url, "SELECT view_name FROM public.mv_refresh_status ORDER BY 1") == [
        ("mv_category_descriptor_summary",),
        ("mv_descriptor_search",),
        ("mv_descriptor_search_forms",),
        ("mv_descriptor_search_pair_users",),
        ("mv_descriptor_search_pairs",),
        ("mv_descriptor_search_prefixes",),
        ("mv_descriptor_search_shared",),
        ("mv_descriptor_search_user_pairs",),
        ("mv_global_descriptor_stats",),
        ("mv_refresh_global_groups",),
        ("mv_refresh_group_items",),
        ("mv_refresh_group_texts",),
        ("mv_refresh_group_users",),
        ("mv_refresh_groups",),
        ("mv_refresh_user_categories",),
        ("mv_refresh_user_sources",),
        ("mv_user_descriptor_summary",),
        ("mv_user_wheel_subcategories",),
        ("mv_wheel_generation_stats",),
    ]
    # The counts start empty; over an empty table that is already right (a
    # table with rows leaves them unbuilt: see test_counts_start_unbuilt_over_rows).
    assert query(
        head_db_url,
        "SELECT count(*) FROM public.mv_refresh_log "
        "WHERE view_name = ANY (%s) AND last_refreshed_at IS NOT NULL",
        (list(COUNTS),),
    ) == [(len(COUNTS),)]


def test_tables_updated_in_place_leave_room_on_each_page(head_db_url: str) -> None:
    # Counts and summaries the refresh updates in place keep a fifth of each
    # page free, so those updates stay on their page (HOT).
    rows = dict(
        query(
            head_db_url,
            "SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '') "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind = 'r' AND c.relname = ANY (%s)",
            ([*COUNTS, *VIEWS, "mv_user_wheel_subcategories"],),
        )
    )
    expected = {name: "fillfactor=80" for name in (*COUNTS, *VIEWS, "mv_user_wheel_subcategories")}
    assert rows == expected


def test_full_rebuild_writes_the_counts_in_key_order(refreshed: str) -> None:
    # A group's rows then share a page or two (read from disk at ten million
    # rows), where hash order would put each on a page of its own.
    execute(refreshed, "SELECT public.refresh_descriptor_views(true)")
    for name in COUNTS:
        indexdef = scalar(refreshed, "SELECT pg_get_indexdef(%s::regclass)", (f"{name}_key",))
        key = indexdef.split("USING btree (", 1)[1].rsplit(")", 1)[0]
        [(in_order, rows)] = query(
            refreshed,
            f"SELECT array_agg(ctid ORDER BY {key}) = array_agg(ctid ORDER BY ctid), count(*) "
            f"FROM public.{name}",
        )
        assert in_order and rows > 1, name


def test_views_keep_null_categories_as_rows(refreshed: str) -> None:
    rows = query(
        refreshed,
        "SELECT category, subcategory, occurrence_count, descriptor_text "
        "FROM public.mv_user_descriptor_summary "
        "WHERE user_id = %s AND normalized_form = 'creme brulee' ORDER BY 1 NULLS FIRST",
        (USER_A,),
    )
    assert rows == [(None, None, 1, "CREME BRULEE"), ("Sweet", "Dessert", 2, rows[1][3])]
    stats = query(
        refreshed,
        "SELECT user_id::text, total_descriptors, unique_descriptors, aroma_count, "
        "flavor_count, texture_count, source_count, category_count, keyword_count "
        "FROM public.mv_wheel_generation_stats ORDER BY 1",
    )
    assert stats == [(USER_A, 12, 7, 7, 4, 1, 5, 3, 12), (USER_B, 3, 3, 1, 1, 0, 2, 2, 3)]
    median = scalar(
        refreshed,
        "SELECT median_intensity FROM public.mv_global_descriptor_stats "
        "WHERE normalized_form = 'cherry' AND category = 'Fruity' AND subcategory = 'Stone fruit'",
    )
    assert median == 4.0  # intensities 3, 5, 4


def test_change_counters_count_rows_not_statements(refreshed: str) -> None:
    assert scalar(refreshed, "SELECT public.should_refresh_views(1)") is False
    execute(
        refreshed,
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) SELECT %s, 'quick_tasting', gen_random_uuid(), "
        "'oak ' || g, 'aroma' FROM generate_series(1, 7) g",
        (USER_B,),
    )
    assert scalar(refreshed, "SELECT public.should_refresh_views(7)") is True
    assert scalar(refreshed, "SELECT public.should_refresh_views(8)") is False
    execute(
        refreshed,
        "UPDATE public.flavor_descriptors SET intensity = 1 WHERE descriptor_text LIKE 'oak %%'",
    )
    execute(refreshed, "DELETE FROM public.flavor_descriptors WHERE descriptor_text = 'oak 1'")
    execute(refreshed, "DELETE FROM public.flavor_descriptors WHERE false")
    counts = query(
        refreshed,
        "SELECT DISTINCT records_since_refresh, needs_refresh FROM public.mv_refresh_status",
    )
    assert counts == [(15, True)]
    assert scalar(refreshed, "SELECT public.should_refresh_views()") is False
    refresh(refreshed)
    after = query(
        refreshed,
        "SELECT DISTINCT records_since_refresh, needs_refresh, "
        "last_refreshed_at > now() - interval '1 minute' FROM public.mv_refresh_status",
    )
    assert after == [(0, False, True)]
    assert (
        scalar(
            refreshed,
            "SELECT total_descriptors FROM public.mv_wheel_generation_stats WHERE user_id = %s",
            (USER_B,),
        )
        == 9
    )


def test_concurrent_writers_do_not_wait_on_change_tracking(refreshed: str) -> None:
    # Two transactions write at once; neither commits before the other has written.
    insert = (
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (gen_random_uuid(), 'quick_review', "
        "gen_random_uuid(), %s, 'aroma')"
    )
    first, second = psycopg2.connect(refreshed), psycopg2.connect(refreshed)
    try:
        with first.cursor() as one, second.cursor() as two:
            one.execute(insert, ("first writer",))
            two.execute("SET lock_timeout = '1s'")
            two.execute(insert, ("second writer",))
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert scalar(refreshed, "SELECT max(records_since_refresh) FROM public.mv_refresh_status") == 2


def test_refresh_keeps_counting_what_it_did_not_see(refreshed: str) -> None:
    # A write still uncommitted when the refresh runs counts towards the next one.
    pending = psycopg2.connect(refreshed)
    try:
        with pending.cursor() as cur:
            cur.execute(
                "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
                "descriptor_text, descriptor_type) VALUES (gen_random_uuid(), 'quick_review', "
                "gen_random_uuid(), 'late', 'aroma')"
            )
            refresh(refreshed)
        pending.commit()
    finally:
        pending.close()
    assert scalar(refreshed, "SELECT max(records_since_refresh) FROM public.mv_refresh_status") == 1
    assert scalar(refreshed, "SELECT public.should_refresh_views(1)") is True


def test_refresh_recomputes_only_the_changed_users_and_forms(refreshed: str) -> None:
    # A summary row edited by hand stays wrong until its user or form changes:
    # proof that the refresh touches the changed groups, not everything.
    url = refreshed
    execute(
        url,
        "UPDATE public.mv_wheel_generation_stats SET total_descriptors = -1 WHERE user_id = %s",
        (USER_A,),
    )
    execute(url, "UPDATE public.mv_global_descriptor_stats SET total_occurrences = -1")
    insert = (
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (%s, 'quick_review', gen_random_uuid(), "
        "'cherry', 'aroma')"
    )
    execute(url, insert, (USER_B,))
    refresh(url)
    stats = dict(
        query(url, "SELECT user_id::text, total_descriptors FROM public.mv_wheel_generation_stats")
    )
    assert stats == {USER_A: -1, USER_B: 4}
    forms = dict(
        query(
            url,
            "SELECT normalized_form, min(total_occurrences) FROM "
            "public.mv_global_descriptor_stats GROUP BY 1",
        )
    )
    assert forms["vanilla"] == -1
    # Only the changed group (cherry, aroma, no category) is recomputed.
    changed = query(
        url,
        "SELECT total_occurrences FROM public.mv_global_descriptor_stats "
        "WHERE normalized_form = 'cherry' AND descriptor_type = 'aroma' "
        "AND category IS NULL AND subcategory IS NULL",
    )
    assert len(changed) == 1 and changed[0][0] > 0
    # The full rebuild repairs everything.
    execute(url, "SELECT public.refresh_descriptor_views(true)")
    assert scalar(url, "SELECT min(total_descriptors) FROM public.mv_wheel_generation_stats") == 4
    assert scalar(url, "SELECT min(total_occurrences) FROM public.mv_global_descriptor_stats") > 0


EXPECTED_A_COMBINED = {
    "categories": [
        {
            "name": "Fruity",
            "count": 5,
            "percentage": 45.4,
            "subcategories": [
                {
                    "name": "Stone fruit",
                    "count": 4,
                    "descriptors": [
                        {"text": "cherry", "count": 3, "avgIntensity": 4.0},
                        {"text": "cherrry", "count": 1, "avgIntensity": 2.0},
                    ],
                },
                {
                    "name": "General",
                    "count": 1,
                    "descriptors": [{"text": "CHERRY", "count": 1, "avgIntensity": 4.0}],
                },
            ],
        },
        {
            "name": "Sweet",
            "count": 4,
            "percentage": 36.4,
            "subcategories": [
                {
                    "name": "Dessert",
                    "count": 2,
                    "descriptors": [{"text": "Crème Brûlée", "count": 2, "avgIntensity": 3.0}],
                },
                {
                    "name": "Vanilla",
                    "count": 2,
                    "descriptors": [
                        {"text": "Vanilla", "count": 1, "avgIntensity": 2.0},
                        {"text": "vanila", "count": 1, "avgIntensity": 2.0},
                    ],
                },
            ],
        },
        {
            "name": "Uncategorized",
            "count": 1,
            "percentage": 9.1,
            "subcategories": [
                {
                    "name": "General",
                    "count": 1,
                    "descriptors": [{"text": "CREME BRULEE", "count": 1, "avgIntensity": 3.0}],
                }
            ],
        },
        {
            "name": "Woody",
            "count": 1,
            "percentage": 9.1,
            "subcategories": [
                {
                    "name": "Oak",
                    "count": 1,
                    "descriptors": [{"text": "Toasted Oak", "count": 1, "avgIntensity": None}],
                }
            ],
        },
    ],
    "totalDescriptors": 11,
    "uniqueDescriptors": 6,
}


def test_combined_wheel_of_a_hand_built_user(refreshed: str) -> None:
    got = wheel(refreshed, USER_A)
    assert "generatedAt" in got
    del got["generatedAt"]
    # Silky (texture) is not in a combined wheel; NULL names are Uncategorized / General.
    assert json.loads(json.dumps(got)) == EXPECTED_A_COMBINED
    total = sum(Decimal(str(c["percentage"])) for c in got["categories"])
    assert total == Decimal("100.0")


def test_wheel_types_limits_and_empty_users(refreshed: str) -> None:
    flavor = wheel(refreshed, USER_A, "flavor")
    assert [(c["name"], c["count"]) for c in flavor["categories"]] == [
        ("Sweet", 2),
        ("Uncategorized", 1),
        ("Woody", 1),
    ]
    assert [c["percentage"] for c in flavor["categories"]] == [50.0, 25.0, 25.0]
    frequent = wheel(refreshed, USER_A, "combined", 2)
    assert frequent["totalDescriptors"] == 5  # cherry x3 in Stone fruit, creme brulee x2
    assert frequent["uniqueDescriptors"] == 2
    top1 = wheel(refreshed, USER_A, "aroma", 1, 1)
    vanilla = next(c for c in top1["categories"] if c["name"] == "Sweet")["subcategories"][0]
    # Two descriptors tie at 1; the subcategory still counts both, lists one.
    assert vanilla["count"] == 2
    assert vanilla["descriptors"] == [{"text": "Vanilla", "count": 1, "avgIntensity": 2.0}]
    for user, kind in ((USER_EMPTY, "combined"), (USER_B, "flavor")):
        w = wheel(refreshed, user, kind)
        assert sum(Decimal(str(c["percentage"])) for c in w["categories"]) in (0, 100)
    empty = wheel(refreshed, USER_EMPTY)
    assert (empty["categories"], empty["totalDescriptors"], empty["uniqueDescriptors"]) == (
        [],
        0,
        0,
    )


def test_percentages_sum_to_100_on_varied_data(head_db_url: str) -> None:
    load_sample(head_db_url, 3000)
    refresh(head_db_url)
    users = [
        r[0]
        for r in query(head_db_url, "SELECT DISTINCT user_id::text FROM public.flavor_descriptors")
    ]
    for user in users[:10]:
        for kind in ("combined", "aroma", "flavor", "metaphor"):
            w = wheel(head_db_url, user, kind)
            total = sum(Decimal(str(c["percentage"])) for c in w["categories"])
            assert abs(total - 100) <= Decimal("0.1"), (user, kind, total)
            assert all(c["name"] for c in w["categories"])
            assert w["totalDescriptors"] == sum(c["count"] for c in w["categories"])


@pytest.mark.parametrize(
    ("sql", "sqlstate", "argument"),
    [
        ("SELECT public.generate_wheel_data_optimized(NULL)", "22004", "p_user_id"),
        (
            f"SELECT public.generate_wheel_data_optimized('{USER_A}', 'texture')",
            "22023",
            "p_wheel_type",
        ),
        (f"SELECT public.generate_wheel_data_optimized('{USER_A}', NULL)", "22004", "p_wheel_type"),
        (
            f"SELECT public.generate_wheel_data_optimized('{USER_A}', 'aroma', 0)",
            "22023",
            "p_min_count",
        ),
        (
            f"SELECT public.generate_wheel_data_optimized('{USER_A}', 'aroma', 1, -1)",
            "22023",
            "p_max_per_subcategory",
        ),
        ("SELECT public.should_refresh_views(0)", "22023", "p_threshold"),
        ("SELECT public.should_refresh_views(NULL)", "22004", "p_threshold"),
    ],
)
def test_bad_input_is_a_clear_error(refreshed: str, sql: str, sqlstate: str, argument: str) -> None:
    code, message = error_of(refreshed, sql)
    assert code == sqlstate
    assert argument in message


def test_downgrade_to_002_and_upgrade_again_keeps_every_row(head_db_url: str) -> None:
    load_sample(head_db_url, 2000)
    load_handbuilt(head_db_url)
    refresh(head_db_url)
    before = descriptors_checksum(head_db_url)
    migrations.downgrade(head_db_url, "002")
    assert descriptors_checksum(head_db_url) == before
    snap = catalog_snapshot(head_db_url)
    assert not {name for name, _ in snap["relations"]} & {*VIEWS, "mv_user_wheel_subcategories"}
    assert {name for name, _ in snap["relations"]} >= set(SEARCH_VIEWS)
    assert not [t for t in snap["triggers"] if "count_" in t[1]]
    migrations.upgrade(head_db_url, "head")
    assert descriptors_checksum(head_db_url) == before
    assert wheel(head_db_url, USER_A)["totalDescriptors"] == 11


def test_counts_start_unbuilt_over_rows(head_db_url: str) -> None:
    # Upgraded over rows, the refresh's counts are empty and marked unbuilt: the
    # first refresh builds them whole, and the next one adds changes to them.
    url = head_db_url
    load_handbuilt(url)
    migrations.downgrade(url, "002")
    migrations.upgrade(url, "head")
    unbuilt = "SELECT count(*) FROM public.mv_refresh_log WHERE view_name = ANY (%s) AND {}"
    assert query(url, unbuilt.format("last_refreshed_at IS NULL"), (list(COUNTS),)) == [
        (len(COUNTS),)
    ]
    assert scalar(url, "SELECT count(*) FROM public.mv_refresh_groups") == 0
    refresh(url)
    assert query(url, unbuilt.format("last_refreshed_at IS NOT NULL"), (list(COUNTS),)) == [
        (len(COUNTS),)
    ]
    assert scalar(url, "SELECT sum(occurrences) FROM public.mv_refresh_groups") == scalar(
        url, "SELECT count(*) FROM public.flavor_descriptors"
    )


@pytest.fixture
def supabase_refreshed(supabase_head_db_url: str) -> str:
    load_handbuilt(supabase_head_db_url, supabase=True)
    refresh(supabase_head_db_url)
    return supabase_head_db_url


def test_signed_in_user_gets_only_their_own_wheel(supabase_refreshed: str) -> None:
    url = supabase_refreshed
    mine = call_as(
        url,
        "SELECT public.generate_wheel_data_optimized(%s) -> 'totalDescriptors'",
        (USER_A,),
        role="authenticated",
        sub=USER_A,
    )
    assert mine == [(11,)]
    sql = "SELECT public.generate_wheel_data_optimized(%s)"
    assert sqlstate_of(url, sql, (USER_B,), role="authenticated", sub=USER_A) == "42501"
    assert sqlstate_of(url, sql, (USER_A,), role="anon") == "42501"
    assert call_as(url, sql + " -> 'totalDescriptors'", (USER_B,), role="service_role") == [(2,)]


PER_USER = ("mv_user_descriptor_summary", "mv_wheel_generation_stats")
AGGREGATES = ("mv_global_descriptor_stats", "mv_category_descriptor_summary")


def test_api_roles_read_summaries_through_row_level_security(supabase_refreshed: str) -> None:
    url = supabase_refreshed
    for table in PER_USER:
        # Each signed-in user sees their own rows only; anon sees none.
        users = call_as(
            url,
            f"SELECT DISTINCT user_id::text FROM public.{table}",
            role="authenticated",
            sub=USER_A,
        )
        assert users == [(USER_A,)], table
        assert call_as(url, f"SELECT count(*) FROM public.{table}", role="anon") == [(0,)]
        assert call_as(
            url, f"SELECT count(DISTINCT user_id) FROM public.{table}", role="service_role"
        ) == [(2,)]
    for table in AGGREGATES:
        # Only groups at least three users wrote: none here (A and B share
        # "cherry"); tests/test_access_every_object.py adds a third user.
        total = f"SELECT sum(total_occurrences) FROM public.{table}"
        assert call_as(url, total, role="service_role") == [(15,)], table
        for role in ("anon", "authenticated"):
            assert call_as(url, total, role=role, sub=USER_A) == [(None,)], (table, role)
    # The builder runs as its caller: another user's wheel comes out empty.
    other = call_as(
        url,
        f"SELECT public.flavatix_wheel_json('personal', '{USER_B}', NULL, ARRAY['aroma'], 1, "
        "10) -> 'totalDescriptors'",
        role="authenticated",
        sub=USER_A,
    )
    assert other == [(0,)]


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_maintenance_is_closed_to_api_roles(supabase_refreshed: str, role: str) -> None:
    url = supabase_refreshed
    for relation in ("mv_refresh_status", "mv_refresh_changes"):
        assert sqlstate_of(url, f"SELECT * FROM public.{relation}", role=role, sub=USER_A) == (
            "42501"
        )
    for sql in (
        "SELECT public.refresh_descriptor_views()",
        "SELECT public.refresh_descriptor_views(true)",
        "SELECT public.should_refresh_views()",
        "DELETE FROM public.mv_refresh_changes",
        "UPDATE public.mv_refresh_log SET last_refreshed_at = now()",
        "INSERT INTO public.mv_user_descriptor_summary (user_id) VALUES (gen_random_uuid())",
        "DELETE FROM public.mv_global_descriptor_stats",
    ):
        assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501"


def test_api_writes_still_count_and_service_role_refreshes(supabase_refreshed: str) -> None:
    url = supabase_refreshed
    # An authenticated insert runs the change-tracking trigger without rights on the table.
    call_as(
        url,
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (%s, 'quick_review', gen_random_uuid(), "
        "'smoke', 'aroma') RETURNING 1",
        (USER_A,),
        role="authenticated",
        sub=USER_A,
        commit=True,
    )
    assert scalar(url, "SELECT max(records_since_refresh) FROM public.mv_refresh_status") == 1
    call_as(url, "SELECT public.refresh_descriptor_views()", role="service_role", commit=True)
    assert scalar(url, "SELECT max(records_since_refresh) FROM public.mv_refresh_status") == 0
