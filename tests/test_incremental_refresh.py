"""Incremental refresh: after any mix of changes, every summary equals a from-scratch build.

A seeded generator writes inserts, updates and deletes (rows moved between
users, forms, types, categories and item categories; NULL categories; new
spellings; users crossing the 200-row heavy-user threshold both ways, and one
who stays heavy while forms come and go in its aroma and flavor wheels), then
refresh_descriptor_views() recomputes what changed. Each round compares every
summary, row for row, with the full rebuild of the same data (run in a
transaction that is rolled back, so the incremental state carries on).
Both states of revision 005 are covered: switched (partitioned) and plain.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import psycopg2.extensions
import pytest

from flavatix_db.mixed_changes import COUNTS, SUMMARIES
from tests.dbtools import connect, execute, scalar

TEXTS = (
    "Cherry", "cherry", "CHERRY", "dark cherry", "cherrry", "Vanilla", "vanila",
    "toasted oak", "Crème Brûlée", "creme brulee", "peaty", "silky", "smoke",
)  # fmt: skip
TYPES = ("aroma", "flavor", "texture", "metaphor", "defect", "mouthfeel")
WHEEL_TYPES = ("aroma", "flavor", "metaphor")
CATEGORIES = (None, "Fruity", "Woody", "Sweet")
SUBCATEGORIES = (None, "Stone fruit", "Oak")
ITEM_CATEGORIES = (None, "whiskey", "coffee")
INSERT = (
    "INSERT INTO public.flavor_descriptors (id, user_id, source_type, source_id, "
    "descriptor_text, descriptor_type, category, subcategory, intensity, confidence_score, "
    "item_name, item_category, created_at) VALUES "
)


# Wheel rows whose count of distinct forms is misplaced: missing on the
# wheel's first row (by category, subcategory), or present on another.
WHEEL_COUNT_ELSEWHERE = """
SELECT count(*) FROM (
    SELECT unique_descriptors IS NOT NULL AS has,
           row_number() OVER (PARTITION BY user_id, wheel_type
                              ORDER BY category, subcategory) = 1 AS first
    FROM public.mv_user_wheel_subcategories) w
WHERE w.has <> w.first
"""


class Writer:
    """Seeded random rows and changes over a small pool of users."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.users = [self.uuid() for _ in range(6)]
        self.near = self.uuid()  # just under the heavy-user threshold
        self.over = self.uuid()  # just over it
        self.steady = self.uuid()  # heavy throughout: its wheels change by subcategory
        self.round = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def row(self, user: str, dtype: str | None = None, text: str | None = None) -> tuple[Any, ...]:
        rng = self.rng
        return (
            self.uuid(),
            user,
            rng.choice(("quick_tasting", "quick_review", "prose_review")),
            self.uuid(),
            text or rng.choice(TEXTS),
            dtype or rng.choice(TYPES),
            rng.choice(CATEGORIES),
            rng.choice(SUBCATEGORIES),
            rng.choice((None, 1, 2, 3, 4, 5)),
            rng.choice((None, 0.5, 0.75, 0.9)),
            rng.choice(("Item 1", "Item 2", "Item 3")),
            rng.choice(ITEM_CATEGORIES),
            f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00+00",
        )

    def insert(self, url: str, rows: list[tuple[Any, ...]]) -> None:
        values = ", ".join(["(" + ", ".join(["%s"] * 13) + ")"] * len(rows))
        execute(url, INSERT + values, [v for row in rows for v in row])

    def seed(self, url: str) -> None:
        rows = [self.row(self.rng.choice(self.users)) for _ in range(300)]
        rows += [self.row(self.near, "aroma") for _ in range(198)]
        rows += [self.row(self.over, "flavor") for _ in range(201)]
        rows += [self.row(self.steady, self.rng.choice(WHEEL_TYPES)) for _ in range(260)]
        self.insert(url, rows)

    def some_ids(self, url: str, k: int, user: str | None = None) -> list[str]:
        """k random rows of ``user``, or of anyone but the three heavy users."""
        ids = sorted(
            str(i)
            for (i,) in _rows(
                url,
                "SELECT id FROM public.flavor_descriptors WHERE user_id = %s "
                "OR (%s::uuid IS NULL AND user_id <> ALL (%s::uuid[]))",
                (user, user, [self.near, self.over, self.steady]),
            )
        )
        return self.rng.sample(ids, min(k, len(ids)))

    def change(self, url: str) -> None:
        """One round: a handful of statements of every kind."""
        rng = self.rng
        self.round += 1
        self.change_steady(url)
        pool = [*self.users, self.uuid()]
        novel = f"novel spelling {self.round}"
        self.insert(url, [self.row(rng.choice(pool)) for _ in range(rng.randint(1, 12))])
        self.insert(url, [self.row(rng.choice(pool), text=novel)])
        # Across the threshold (200) every round: near goes up to 201, over down
        # to 198, then back.
        if self.round % 2:
            self.insert(url, [self.row(self.near, "metaphor") for _ in range(3)])
            execute(
                url,
                "DELETE FROM public.flavor_descriptors WHERE id = ANY (%s::uuid[])",
                (self.some_ids(url, 3, self.over),),
            )
        else:
            execute(
                url,
                "DELETE FROM public.flavor_descriptors WHERE id = ANY (%s::uuid[])",
                (self.some_ids(url, 3, self.near),),
            )
            self.insert(url, [self.row(self.over, "aroma") for _ in range(3)])
        # Rows moved to another user.
        execute(
            url,
            "UPDATE public.flavor_descriptors SET user_id = %s WHERE id = ANY (%s::uuid[])",
            (rng.choice(pool), self.some_ids(url, rng.randint(1, 6))),
        )
        # Rows moved to another form, type, category (NULL or not), item category.
        for _ in range(3):
            execute(
                url,
                "UPDATE public.flavor_descriptors SET descriptor_text = coalesce(%s, "
                "descriptor_text), descriptor_type = %s, category = %s, subcategory = %s, "
                "item_category = %s, intensity = %s WHERE id = ANY (%s::uuid[])",
                (
                    rng.choice((None, *TEXTS)),
                    rng.choice(TYPES),
                    rng.choice(CATEGORIES),
                    rng.choice(SUBCATEGORIES),
                    rng.choice(ITEM_CATEGORIES),
                    rng.choice((None, 2, 5)),
                    self.some_ids(url, rng.randint(1, 5)),
                ),
            )
        # Scores changed in place: a group's count stays, its sum moves.
        execute(
            url,
            "UPDATE public.flavor_descriptors SET confidence_score = %s, intensity = %s "
            "WHERE id = ANY (%s::uuid[])",
            (
                rng.choice((None, 0.25, 0.5, 0.8)),
                rng.choice((None, 1, 4)),
                self.some_ids(url, rng.randint(1, 4)),
            ),
        )
        # Deletes, sometimes the last row of a spelling.
        execute(
            url,
            "DELETE FROM public.flavor_descriptors WHERE id = ANY (%s::uuid[])",
            (self.some_ids(url, rng.randint(1, 8)),),
        )
        if rng.random() < 0.5:
            execute(
                url,
                "DELETE FROM public.flavor_descriptors WHERE normalized_form = %s",
                (f"novel spelling {self.round - 1}",),
            )

    def change_steady(self, url: str) -> None:
        """Forms added to, moved between and taken from the steady user's wheels.

        Each round's new form comes as aroma and flavor; a round later its
        aroma rows go (it stays in the combined wheel), a round after that its
        flavor rows (it leaves the combined wheel too).
        """
        rng = self.rng
        form = f"steady form {self.round}"
        self.insert(
            url,
            [self.row(self.steady, rng.choice(WHEEL_TYPES)) for _ in range(3)]
            + [self.row(self.steady, t, text=form) for t in ("aroma", "flavor")],
        )
        execute(
            url,
            "UPDATE public.flavor_descriptors SET descriptor_type = %s WHERE id = ANY (%s::uuid[])",
            (rng.choice(WHEEL_TYPES), self.some_ids(url, 2, self.steady)),
        )
        execute(
            url,
            "DELETE FROM public.flavor_descriptors WHERE id = ANY (%s::uuid[]) "
            "OR (user_id = %s AND ((normalized_form = %s AND descriptor_type = 'aroma') "
            "OR (normalized_form = %s AND descriptor_type = 'flavor')))",
            (
                self.some_ids(url, 3, self.steady),
                self.steady,
                f"steady form {self.round - 1}",
                f"steady form {self.round - 2}",
            ),
        )


def _rows(url: str, sql: str, params: Any = None) -> list[Any]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def contents(cur: psycopg2.extensions.cursor) -> dict[str, list[str]]:
    found = {}
    for name in (*SUMMARIES, *COUNTS):
        cur.execute(f"SELECT t::text FROM public.{name} t ORDER BY 1")
        found[name] = [row[0] for row in cur.fetchall()]
    return found


def incremental_and_full(url: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Refresh incrementally; then, in a rolled-back transaction, the full rebuild."""
    execute(url, "SELECT public.refresh_descriptor_views()")
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        incremental = contents(cur)
        cur.execute("SELECT public.refresh_descriptor_views(true)")
        full = contents(cur)
        conn.rollback()
    return incremental, full


@pytest.fixture(params=["switched", "plain"])
def any_head(request: pytest.FixtureRequest) -> str:
    fixture = "head_db_url" if request.param == "switched" else "head_plain_db_url"
    url: str = request.getfixturevalue(fixture)
    kind = scalar(url, "SELECT relkind FROM pg_class WHERE oid = 'flavor_descriptors'::regclass")
    assert kind == ("p" if request.param == "switched" else "r")
    return url


@pytest.mark.parametrize("seed", [11, 23])
def test_incremental_refresh_equals_full_rebuild(any_head: str, seed: int) -> None:
    url = any_head
    writer = Writer(seed)
    writer.seed(url)
    execute(url, "SELECT public.refresh_descriptor_views(true)")
    heavy_seen: dict[str, set[bool]] = {writer.near: set(), writer.over: set()}
    for _ in range(6):
        writer.change(url)
        assert scalar(url, "SELECT public.should_refresh_views(1)") is True
        incremental, full = incremental_and_full(url)
        for name in (*SUMMARIES, *COUNTS):
            assert incremental[name] == full[name], (name, writer.round)
        assert scalar(url, "SELECT count(*) FROM public.mv_refresh_changes") == 0
        # Each wheel's count of distinct forms is on its first row, and only there.
        assert scalar(url, WHEEL_COUNT_ELSEWHERE) == 0
        for user in heavy_seen:
            heavy_seen[user].add(
                bool(
                    scalar(
                        url,
                        "SELECT EXISTS (SELECT FROM public.mv_user_wheel_subcategories "
                        "WHERE user_id = %s) AND EXISTS (SELECT FROM "
                        "public.mv_descriptor_search_pair_users WHERE user_id = %s)",
                        (user, user),
                    )
                )
            )
    # Both users were held as heavy in some rounds and not in others.
    assert heavy_seen == {writer.near: {True, False}, writer.over: {True, False}}
    assert (
        scalar(
            url,
            "SELECT count(DISTINCT wheel_type) FROM public.mv_user_wheel_subcategories "
            "WHERE user_id = %s",
            (writer.steady,),
        )
        == 4
    )
    assert all(incremental[name] for name in SUMMARIES if name != "mv_descriptor_search_pairs")


def test_intensities_outside_the_check_still_give_the_rebuilt_medians(any_head: str) -> None:
    """The counts keep one column per intensity 1 to 5; without the check, a group's median
    is read from its rows, and goes back to its counts once the odd values are gone."""
    url = any_head
    writer = Writer(13)
    writer.seed(url)
    execute(url, "SELECT public.refresh_descriptor_views()")
    # From the parent first: partitions keep a copy of their own.
    execute(
        url,
        """DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.conrelid::regclass AS t
             FROM pg_constraint c JOIN pg_class k ON k.oid = c.conrelid
             WHERE c.conname = 'flavor_descriptors_intensity_check'
             ORDER BY k.relkind = 'p' DESC LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS '
                       'flavor_descriptors_intensity_check', r.t);
    END LOOP;
END;
$$""",
    )
    user = writer.users[0]
    odd = [writer.row(user, "aroma", "toasted oak") for _ in range(3)]
    odd = [(*r[:8], value, *r[9:]) for r, value in zip(odd, (0, 9, 9), strict=True)]
    writer.insert(url, odd)
    _same_as_full(url)
    median = _rows(
        url,
        "SELECT median_intensity FROM public.mv_global_descriptor_stats "
        "WHERE normalized_form = 'toasted oak' AND descriptor_type = 'aroma' "
        "AND category IS NOT DISTINCT FROM %s AND subcategory IS NOT DISTINCT FROM %s",
        (odd[0][6], odd[0][7]),
    )
    assert median and median[0][0] is not None
    execute(url, "DELETE FROM public.flavor_descriptors WHERE intensity NOT BETWEEN 1 AND 5")
    _same_as_full(url)
    assert (
        scalar(
            url,
            "SELECT count(*) FROM public.mv_refresh_groups WHERE intensity_1 + intensity_2 "
            "+ intensity_3 + intensity_4 + intensity_5 <> intensity_count",
        )
        == 0
    )


def test_what_a_crash_empties_is_rebuilt_by_the_next_refresh(any_head: str) -> None:
    """The change rows and the counts are unlogged: a crash resets them to empty while the
    table keeps every committed row, and the next refresh rebuilds everything from it."""
    url = any_head
    unlogged = _rows(
        url,
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind = 'r' AND relpersistence = 'u' ORDER BY 1",
    )
    assert [name for (name,) in unlogged] == sorted([*COUNTS, "mv_refresh_changes"])
    writer = Writer(17)
    writer.seed(url)
    execute(url, "SELECT public.refresh_descriptor_views()")
    writer.change(url)  # written before the crash: their change rows go with it
    execute(url, "TRUNCATE " + ", ".join(f"public.{n}" for n in (*COUNTS, "mv_refresh_changes")))
    assert scalar(url, "SELECT public.should_refresh_views(1000000)") is True
    incremental, full = incremental_and_full(url)
    for name in (*SUMMARIES, *COUNTS):
        assert incremental[name] == full[name], name
    assert incremental["mv_refresh_groups"]
    assert scalar(url, "SELECT public.should_refresh_views(1)") is False


def test_a_refresh_without_changes_changes_nothing(head_db_url: str) -> None:
    url = head_db_url
    writer = Writer(5)
    writer.seed(url)
    execute(url, "SELECT public.refresh_descriptor_views()")
    with connect(url) as conn, conn.cursor() as cur:
        before = contents(cur)
        cur.execute("SELECT public.refresh_descriptor_views()")
        after = contents(cur)
    assert before == after
    assert before["mv_user_descriptor_summary"]


def test_a_refresh_rewrites_only_the_summary_rows_that_changed(head_db_url: str) -> None:
    # A changed (user, form, type) key is recomputed whole, but only its rows
    # that differ are written, in place: its other categories stay where they
    # were, and the changed row moves within its page (fillfactor leaves room).
    url = head_db_url
    writer = Writer(11)
    user = writer.uuid()
    oak = ("peaty", "aroma", "Woody", "Oak")
    bare = ("peaty", "aroma", None, None)
    rows = [writer.row(user) for _ in range(3)]
    rows = [(*r[:4], *oak, *r[8:]) for r in rows[:2]] + [(*rows[2][:4], *bare, *rows[2][8:])]
    writer.insert(url, rows)
    execute(url, "SELECT public.refresh_descriptor_views()")
    where = (
        "FROM public.mv_user_descriptor_summary WHERE user_id = %s "
        "AND normalized_form = 'peaty' AND descriptor_type = 'aroma'"
    )
    before = dict(_rows(url, f"SELECT category, ctid::text {where}", (user,)))
    writer.insert(url, [(*(r := writer.row(user))[:4], *oak, *r[8:])])
    execute(url, "SELECT public.refresh_descriptor_views()")
    after = dict(_rows(url, f"SELECT category, ctid::text {where}", (user,)))
    counts = dict(_rows(url, f"SELECT category, occurrence_count {where}", (user,)))
    assert counts == {"Woody": 3, None: 1}
    assert after[None] == before[None]
    assert after["Woody"] != before["Woody"]
    page = "(%s::tid::text::point)[0]"
    assert scalar(url, f"SELECT {page} = {page}", (after["Woody"], before["Woody"])) is True
    _same_as_full(url)


def test_a_refresh_leaves_the_callers_settings_as_they_were(head_db_url: str) -> None:
    # The incremental steps lower the statistics target and turn JIT off for
    # themselves; a caller refreshing inside its own transaction keeps its own.
    url = head_db_url
    writer = Writer(13)
    writer.seed(url)
    execute(url, "SELECT public.refresh_descriptor_views()")
    writer.insert(url, [writer.row(writer.users[0]) for _ in range(5)])
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL default_statistics_target = 123")
        cur.execute("SET LOCAL jit = on")
        cur.execute("SELECT pg_catalog.count(*) FROM public.mv_refresh_changes")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT public.refresh_descriptor_views()")
        cur.execute("SELECT pg_catalog.count(*) FROM public.mv_refresh_changes")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT current_setting('default_statistics_target'), current_setting('jit')")
        assert cur.fetchone() == ("123", "on")
        conn.commit()
    _same_as_full(url)


def test_full_rebuild_argument_is_checked(head_db_url: str) -> None:
    with pytest.raises(psycopg2.Error) as failure:
        execute(head_db_url, "SELECT public.refresh_descriptor_views(NULL)")
    assert failure.value.pgcode == "22004"


def _user_pairs(url: str, user: str) -> list[tuple[str, str, str, str]]:
    return _rows(
        url,
        "SELECT form_a, form_b, descriptor1_text, descriptor2_text "
        "FROM public.mv_descriptor_search_user_pairs "
        "WHERE user_id = %s AND form_a LIKE 'cherr%%' ORDER BY 1, 2",
        (user,),
    )


def _top(url: str, prefix: str) -> list[str]:
    return [
        form
        for (form,) in _rows(
            url,
            "SELECT normalized_form FROM public.mv_descriptor_search_prefixes "
            "WHERE prefix = %s ORDER BY rank",
            (prefix,),
        )
    ]


def _same_as_full(url: str) -> None:
    incremental, full = incremental_and_full(url)
    for name in SUMMARIES:
        assert incremental[name] == full[name], name


def test_user_pairs_and_prefixes_follow_single_changes(head_db_url: str) -> None:
    """Changes to one form of one heavy user: only those keys are recomputed, and must be enough."""
    url = head_db_url
    writer = Writer(7)
    heavy, other = writer.uuid(), writer.uuid()
    # 210 groups under the prefix "q" (more than the 100 kept), one row each,
    # and a form the heavy user will pair with.
    rows = [
        writer.row(heavy, "aroma", f"q{n:03d} {'x' * (n % 7)} {n * 7919 % 1000}")
        for n in range(210)
    ]
    rows += [writer.row(heavy, "aroma", "Cherry"), writer.row(heavy, "aroma", "Cherry")]
    writer.insert(url, rows)
    execute(url, "SELECT public.refresh_descriptor_views(true)")
    assert _user_pairs(url, heavy) == []
    assert len(_top(url, "q")) == 100

    # A new form, similar to one the user already had: a pair with an unchanged form.
    writer.insert(url, [writer.row(heavy, "aroma", "cherrry")])
    # Another user's similar form is not the heavy user's pair.
    writer.insert(url, [writer.row(other, "aroma", "cherryy")])
    _same_as_full(url)
    assert _user_pairs(url, heavy) == [("cherrry", "cherry", "cherrry", "Cherry")]

    # The shown spelling of the pair's other side (form_b) changes.
    execute(
        url,
        "UPDATE public.flavor_descriptors SET descriptor_text = 'CHERRY' "
        "WHERE user_id = %s AND normalized_form = 'cherry'",
        (heavy,),
    )
    _same_as_full(url)
    assert _user_pairs(url, heavy) == [("cherrry", "cherry", "cherrry", "CHERRY")]

    # A form from below the top 100 of "q" rises to the top; the last one drops out.
    below = _rows(
        url,
        "SELECT normalized_form, descriptor_text FROM public.mv_descriptor_search "
        "WHERE normalized_form LIKE 'q%%' AND normalized_form NOT IN "
        "(SELECT normalized_form FROM public.mv_descriptor_search_prefixes WHERE prefix = 'q') "
        "ORDER BY 1 DESC LIMIT 1",
    )[0]
    last = _top(url, "q")[-1]
    writer.insert(url, [writer.row(heavy, "aroma", below[1]) for _ in range(3)])
    _same_as_full(url)
    assert _top(url, "q")[0] == below[0]
    assert last not in _top(url, "q")

    # It falls back out once its rows are gone, and the pair goes with the user's form.
    execute(
        url,
        "DELETE FROM public.flavor_descriptors WHERE normalized_form IN (%s, 'cherrry')",
        (below[0],),
    )
    _same_as_full(url)
    assert below[0] not in _top(url, "q")
    assert last in _top(url, "q")
    assert _user_pairs(url, heavy) == []


def test_refresh_search_checks_its_arguments(head_db_url: str) -> None:
    call = "SELECT public.flavatix_refresh_search(%s::uuid[], %s, %s, %s::uuid[], %s, %s, %s)"
    user = str(uuid.uuid4())
    for args, state in (
        (([], [], None, [], [], [], False), "22004"),
        (([], [], False, [], [], [], None), "22004"),
        (([], [], False, None, [], [], False), "22004"),
        (([user], ["x"], False, [user], ["x", "y"], ["aroma"], False), "22023"),
        (([user], ["x"], False, [user], ["x"], [], False), "22023"),
    ):
        with pytest.raises(psycopg2.Error) as failure:
            execute(head_db_url, call, args)
        assert failure.value.pgcode == state, args


def test_search_done_leaves_mv_descriptor_search_to_the_caller(head_db_url: str) -> None:
    url = head_db_url
    writer = Writer(3)
    user = writer.uuid()
    writer.insert(url, [writer.row(user, "aroma", "yuzu kosho")])
    pending = (
        "SELECT array_agg(DISTINCT user_id), array_agg(DISTINCT normalized_form), "
        "array_agg(user_id), array_agg(normalized_form), array_agg(descriptor_type) "
        "FROM public.mv_refresh_changes"
    )
    users, forms, key_users, key_forms, key_types = _rows(url, pending)[0]
    call = "SELECT public.flavatix_refresh_search(%s::uuid[], %s, false, %s::uuid[], %s, %s, %s)"
    searched = (
        "SELECT count(*) FROM public.mv_descriptor_search WHERE normalized_form = 'yuzu kosho'"
    )
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute(call, (users, forms, key_users, key_forms, key_types, True))
        cur.execute(searched)
        assert cur.fetchone() == (0,)
        cur.execute(call, (users, forms, key_users, key_forms, key_types, False))
        cur.execute(searched)
        assert cur.fetchone() == (1,)
        cur.execute(
            "SELECT count(*) FROM public.mv_descriptor_search_forms "
            "WHERE normalized_form = 'yuzu kosho'"
        )
        assert cur.fetchone() == (1,)
        conn.rollback()
