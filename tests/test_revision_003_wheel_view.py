"""Revision 003: personal wheels read from mv_user_wheel_subcategories give the reference JSON.

flavatix_wheel_json() answers a heavy user's wheel from the per-subcategory view
and everything else from the per-form summaries
(flavatix_wheel_json_from_forms(), the reference). These tests compare the two
paths' JSON text, prove which path ran, and check the view's bookkeeping.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.dbtools import execute, query, scalar
from tests.handbuilt import (
    USER_A,
    USER_B,
    USER_EMPTY,
    call_as,
    load_handbuilt,
    sqlstate_of,
)
from tests.test_revision_003 import EXPECTED_A_COMBINED, refresh

WHEEL_VIEW = "mv_user_wheel_subcategories"
# Revision 003 holds users with at least this many aroma, flavor and metaphor rows.
MIN_ROWS = 200
TYPES = {
    "combined": ["aroma", "flavor"],
    "aroma": ["aroma"],
    "flavor": ["flavor"],
    "metaphor": ["metaphor"],
}
HEAVY_1 = "00000000-0000-4000-8000-0000000c0001"
HEAVY_2 = "00000000-0000-4000-8000-0000000c0002"


def pad_with_metaphors(url: str, user: str, rows: int = MIN_ROWS) -> None:
    """Give ``user`` enough metaphor rows to be held by the view; other wheels are unchanged."""
    execute(
        url,
        """INSERT INTO public.flavor_descriptors
               (user_id, source_type, source_id, descriptor_text, descriptor_type, category)
           SELECT %s, 'quick_review', gen_random_uuid(), 'mood ' || (g %% 7), 'metaphor', 'Mood'
           FROM generate_series(1, %s) AS g""",
        (user, rows),
    )


def load_heavy_user(url: str, user: str, rows: int, forms: int, salt: int) -> None:
    """Skewed counts with many ties, spelling variants of one form (label choice), the same
    form as aroma and flavor, NULL beside literal 'Uncategorized' / 'General', NULL
    intensities, and subcategories with more than 100 forms."""
    execute(
        url,
        """INSERT INTO public.flavor_descriptors
               (user_id, source_type, source_id, descriptor_text, descriptor_type, category,
                subcategory, intensity)
           SELECT %(user)s, 'quick_tasting', gen_random_uuid(),
                  (ARRAY['Note ', 'note  ', 'NOTE ', 'nöte '])[1 + (g * %(salt)s) %% 4]
                      || CASE WHEN g %% 4 = 0 THEN g / 4 %% 6
                              ELSE (g * 7919 + %(salt)s) %% %(forms)s END,
                  (ARRAY['aroma', 'flavor', 'metaphor', 'aroma', 'flavor'])[1 + g / 3 %% 5],
                  CASE g %% 11 WHEN 0 THEN NULL WHEN 1 THEN 'Uncategorized'
                       ELSE (ARRAY['Fruity', 'Sweet'])[1 + g %% 2] END,
                  CASE g %% 13 WHEN 0 THEN NULL WHEN 1 THEN 'General'
                       ELSE 'Sub ' || (g %% 2) END,
                  CASE WHEN g %% 5 = 0 THEN NULL ELSE 1 + (g + %(salt)s) %% 5 END
           FROM generate_series(1, %(rows)s) AS g;
           ANALYZE public.flavor_descriptors""",
        {"user": user, "rows": rows, "forms": forms, "salt": salt},
    )


def both_paths(url: str, user: str, kind: str, min_count: int, top: int) -> tuple[str, str]:
    """The dispatching builder's and the reference's JSON text, without generatedAt."""
    row = query(
        url,
        """SELECT (public.flavatix_wheel_json('personal', %(u)s, NULL, %(t)s, %(m)s, %(k)s)
                   - 'generatedAt')::text,
                  (public.flavatix_wheel_json_from_forms('personal', %(u)s, NULL, %(t)s, %(m)s,
                                                         %(k)s) - 'generatedAt')::text""",
        {"u": user, "t": TYPES[kind], "m": min_count, "k": top},
    )[0]
    return str(row[0]), str(row[1])


def held_by_view(url: str, user: str, kind: str) -> bool:
    return bool(
        scalar(
            url,
            f"SELECT count(*) > 0 FROM public.{WHEEL_VIEW} WHERE user_id = %s AND wheel_type = %s",
            (user, kind),
        )
    )


@pytest.fixture
def padded(head_db_url: str) -> str:
    """The hand-built users, A and B heavy enough for the view (metaphor rows only)."""
    load_handbuilt(head_db_url)
    pad_with_metaphors(head_db_url, USER_A)
    pad_with_metaphors(head_db_url, USER_B)
    refresh(head_db_url)
    return head_db_url


@pytest.fixture
def varied(head_db_url: str) -> str:
    load_heavy_user(head_db_url, HEAVY_1, 6000, 260, 3)
    load_heavy_user(head_db_url, HEAVY_2, 900, 700, 5)
    load_handbuilt(head_db_url)
    refresh(head_db_url)
    return head_db_url


def test_view_is_registered_keyed_and_closed(head_db_url: str) -> None:
    url = head_db_url
    assert (
        scalar(
            url, "SELECT count(*) FROM public.mv_refresh_status WHERE view_name = %s", (WHEEL_VIEW,)
        )
        == 1
    )
    assert scalar(
        url,
        "SELECT i.indisunique AND i.indisvalid FROM pg_index i WHERE i.indexrelid = %s::regclass",
        (f"public.ux_{WHEEL_VIEW}_key",),
    )
    assert not scalar(
        url, "SELECT has_table_privilege('public', %s, 'SELECT')", (f"public.{WHEEL_VIEW}",)
    )


def test_hand_built_wheel_from_the_view_is_the_pinned_json(padded: str) -> None:
    assert held_by_view(padded, USER_A, "combined")
    got = scalar(padded, "SELECT public.generate_wheel_data_optimized(%s)", (USER_A,))
    del got["generatedAt"]
    assert json.loads(json.dumps(got)) == EXPECTED_A_COMBINED


@pytest.mark.parametrize("top", [1, 2, 10, 100])
def test_view_and_forms_paths_agree_on_hand_built_data(padded: str, top: int) -> None:
    for user in (USER_A, USER_B, USER_EMPTY):
        for kind in TYPES:
            fast, reference = both_paths(padded, user, kind, 1, top)
            assert fast == reference, (user, kind, top)


def test_view_and_forms_paths_agree_on_varied_data(varied: str) -> None:
    url = varied
    # Subcategories longer than the view's top list and than the default 10.
    assert scalar(url, f"SELECT max(form_count) FROM public.{WHEEL_VIEW}") > 100
    for user in (HEAVY_1, HEAVY_2):
        for kind in TYPES:
            assert held_by_view(url, user, kind), (user, kind)
            for top in (1, 3, 10, 99, 100):
                fast, reference = both_paths(url, user, kind, 1, top)
                assert fast == reference, (user, kind, top)
            wheel = json.loads(fast)
            total = sum(Decimal(str(c["percentage"])) for c in wheel["categories"])
            assert total == Decimal("100.0"), (user, kind)
            # A higher minimum takes the reference path and still answers the same.
            fast, reference = both_paths(url, user, kind, 3, 10)
            assert fast == reference
            assert json.loads(fast)["totalDescriptors"] < wheel["totalDescriptors"]


def test_light_users_and_other_arguments_take_the_forms_path(padded: str) -> None:
    url = padded
    # Renamed away, the table fails any read: a call that still answers did not read it.
    execute(url, f"ALTER TABLE public.{WHEEL_VIEW} RENAME TO wheel_table_away")
    for sql, params in (
        ("SELECT public.generate_wheel_data_optimized(%s)", (USER_A,)),
        ("SELECT public.generate_wheel_data_optimized(%s, 'metaphor', 1, 5)", (USER_B,)),
        ("SELECT public.get_wheel_data_fast(%s)", (USER_A,)),
    ):
        assert sqlstate_of(url, sql, params) == "42P01"
    assert (
        scalar(
            url,
            "SELECT public.generate_wheel_data_optimized(%s, 'combined', 2) -> 'totalDescriptors'",
            (USER_A,),
        )
        == 5
    )
    execute(url, f"ALTER TABLE public.wheel_table_away RENAME TO {WHEEL_VIEW}")
    # Without its metaphor rows A is light again: no longer held, same wheel.
    execute(url, "DELETE FROM public.flavor_descriptors WHERE descriptor_type = 'metaphor'")
    refresh(url)
    assert not held_by_view(url, USER_A, "combined")
    got = scalar(url, "SELECT public.generate_wheel_data_optimized(%s)", (USER_A,))
    del got["generatedAt"]
    assert json.loads(json.dumps(got)) == EXPECTED_A_COMBINED


def test_refresh_rebuilds_the_view_after_the_summary_it_reads(varied: str) -> None:
    url = varied
    before: dict[str, Any] = scalar(
        url, "SELECT public.generate_wheel_data_optimized(%s)", (HEAVY_2,)
    )
    load_heavy_user(url, HEAVY_2, 300, 50, 7)
    refresh(url)
    after = scalar(url, "SELECT public.generate_wheel_data_optimized(%s)", (HEAVY_2,))
    assert after["totalDescriptors"] > before["totalDescriptors"]
    for kind in TYPES:
        fast, reference = both_paths(url, HEAVY_2, kind, 1, 10)
        assert fast == reference, kind
    assert (
        scalar(
            url,
            "SELECT needs_refresh FROM public.mv_refresh_status WHERE view_name = %s",
            (WHEEL_VIEW,),
        )
        is False
    )


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_wheel_table_and_reference_builder_answer_api_roles_for_their_own_rows(
    supabase_head_db_url: str, role: str
) -> None:
    url = supabase_head_db_url
    load_handbuilt(url, supabase=True)
    pad_with_metaphors(url, USER_A)
    pad_with_metaphors(url, USER_B)
    refresh(url)
    rows = f"SELECT DISTINCT user_id::text FROM public.{WHEEL_VIEW}"
    other = (
        f"SELECT public.flavatix_wheel_json_from_forms('personal', '{USER_B}', NULL, "
        "ARRAY['metaphor'], 1, 10) -> 'totalDescriptors'"
    )
    if role == "anon":
        assert call_as(url, rows, role=role) == []
        assert call_as(url, other, role=role) == [(0,)]
        return
    assert call_as(url, rows, role=role, sub=USER_A) == [(USER_A,)]
    assert call_as(url, other, role=role, sub=USER_A) == [(0,)]
    assert call_as(url, other, role="service_role")[0][0] > 0
