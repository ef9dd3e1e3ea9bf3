"""A small hand-built dataset with answers known in advance, and helpers to call SQL as a role.

Users: A has accents, case and spacing variants, a typo and NULL categories;
B has a few rows (one only B has); EMPTY exists but has no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg2
import pytest

from tests.dbtools import connect, execute

# Outside the range of users that tests.dbtools.load_sample generates.
USER_A = "00000000-0000-4000-8000-00000000aaaa"
USER_B = "00000000-0000-4000-8000-00000000bbbb"
USER_EMPTY = "00000000-0000-4000-8000-00000000eeee"

# (user, source n, text, type, category, subcategory, intensity, created_at)
ROWS: list[tuple[str, int, str, str, str | None, str | None, int | None, str]] = [
    (USER_A, 1, "Crème Brûlée", "flavor", "Sweet", "Dessert", 4, "2025-03-01 10:00+00"),
    (USER_A, 2, "creme  brulee ", "flavor", "Sweet", "Dessert", 2, "2025-03-02 10:00+00"),
    (USER_A, 3, "CREME BRULEE", "flavor", None, None, 3, "2025-03-03 10:00+00"),
    (USER_A, 1, "Cherry", "aroma", "Fruity", "Stone fruit", 3, "2025-03-01 10:00+00"),
    (USER_A, 2, "cherry", "aroma", "Fruity", "Stone fruit", 5, "2025-03-02 10:00+00"),
    (USER_A, 5, "cherry", "aroma", "Fruity", "Stone fruit", 4, "2025-03-05 10:00+00"),
    (USER_A, 3, "CHERRY", "aroma", "Fruity", None, 4, "2025-03-03 10:00+00"),
    (USER_A, 4, "cherrry", "aroma", "Fruity", "Stone fruit", 2, "2025-03-04 10:00+00"),
    (USER_A, 1, "Vanilla", "aroma", "Sweet", "Vanilla", 2, "2025-03-01 10:00+00"),
    (USER_A, 2, "vanila", "aroma", "Sweet", "Vanilla", 2, "2025-03-02 10:00+00"),
    (USER_A, 1, "Toasted Oak", "flavor", "Woody", "Oak", None, "2025-03-01 10:00+00"),
    (USER_A, 2, "silky", "texture", None, None, 3, "2025-03-02 10:00+00"),
    (USER_B, 1, "cherry", "aroma", None, None, 1, "2025-04-01 10:00+00"),
    (USER_B, 1, "Chérry Pie", "flavor", "Sweet", "Dessert", 5, "2025-04-01 10:00+00"),
    (USER_B, 2, "secret note", "metaphor", "Mood", None, 3, "2025-04-02 10:00+00"),
]


def source_id(user: str, n: int) -> str:
    return f"{user[:24]}{user[-1]}{n:011d}"


def load_handbuilt(url: str, *, supabase: bool = False) -> None:
    """Insert ROWS (and, on the Supabase stand-in, the auth.users rows they reference)."""
    if supabase:
        execute(
            url,
            "INSERT INTO auth.users (id) VALUES (%s), (%s), (%s) ON CONFLICT DO NOTHING",
            (USER_A, USER_B, USER_EMPTY),
        )
    with connect(url) as conn, conn.cursor() as cur:
        for user, n, text, dtype, cat, sub, intensity, created in ROWS:
            cur.execute(
                "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
                "descriptor_text, descriptor_type, category, subcategory, intensity, "
                "item_name, item_category, created_at) "
                "VALUES (%s, 'quick_tasting', %s, %s, %s, %s, %s, %s, 'Oban 14', 'whiskey', %s)",
                (user, source_id(user, n), text, dtype, cat, sub, intensity, created),
            )


# The search table and the tables revision 002 derives from it, in refresh order.
SEARCH_VIEWS = (
    "mv_descriptor_search",
    "mv_descriptor_search_shared",
    "mv_descriptor_search_forms",
    "mv_descriptor_search_prefixes",
    "mv_descriptor_search_pairs",
    "mv_descriptor_search_pair_users",
    "mv_descriptor_search_user_pairs",
)


def refresh_search(url: str) -> None:
    """Bring the search tables up to date, as production does."""
    execute(url, "SELECT public.refresh_descriptor_views()")


def call_as(
    url: str,
    sql: str,
    params: Sequence[Any] | None = None,
    *,
    role: str | None = None,
    sub: str | None = None,
    search_path: str | None = None,
    commit: bool = False,
) -> list[Any]:
    """Run ``sql`` as ``role`` with JWT subject ``sub`` (as PostgREST would), in one transaction.

    The transaction is rolled back unless ``commit``.
    """
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        if search_path is not None:
            cur.execute("SELECT set_config('search_path', %s, true)", (search_path,))
        if sub is not None:
            cur.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", (sub,))
        if role is not None:
            cur.execute("SELECT set_config('role', %s, true)", (role,))
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
        if commit:
            conn.commit()
        else:
            conn.rollback()
        return rows


def sqlstate_of(url: str, sql: str, params: Sequence[Any] | None = None, **kw: Any) -> str:
    """The SQLSTATE ``sql`` fails with (the test fails if it succeeds)."""
    with pytest.raises(psycopg2.Error) as failure:
        call_as(url, sql, params, **kw)
    return str(failure.value.pgcode)


def error_of(url: str, sql: str, params: Sequence[Any] | None = None, **kw: Any) -> tuple[str, str]:
    """SQLSTATE and message of the error ``sql`` fails with."""
    with pytest.raises(psycopg2.Error) as failure:
        call_as(url, sql, params, **kw)
    return str(failure.value.pgcode), str(failure.value.pgerror)
