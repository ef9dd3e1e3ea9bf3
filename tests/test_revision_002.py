"""Revision 002: pg_trgm, trigram and full-text indexes, fuzzy search functions."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

import pytest

from flavatix_db import migrations
from flavatix_db.models import SQL_MANAGED
from tests.dbtools import (
    catalog_snapshot,
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
from tests.handbuilt import (
    SEARCH_VIEWS,
    USER_A,
    USER_B,
    USER_EMPTY,
    call_as,
    error_of,
    load_handbuilt,
    refresh_search,
    sqlstate_of,
)

SEARCH_FUNCTIONS = {
    "find_similar_descriptors",
    "find_duplicate_descriptors",
    "autocomplete_descriptors",
    "suggest_descriptor_category",
}
TRGM_INDEXES = {
    "ix_flavor_descriptors_text_trgm",
    "ix_flavor_descriptors_normalized_trgm",
    "ix_flavor_descriptors_category_trgm",
    "ix_flavor_descriptors_subcategory_trgm",
    "ix_flavor_descriptors_search_vector",
}


@pytest.fixture
def searchable(head_db_url: str) -> str:
    load_handbuilt(head_db_url)
    refresh_search(head_db_url)
    return head_db_url


def test_catalog_after_upgrade(head_db_url: str) -> None:
    snap = catalog_snapshot(head_db_url)
    assert ("pg_trgm",) in snap["extensions"]
    for table in SEARCH_VIEWS:
        assert (table, "r") in snap["relations"]
    indexdefs = dict(snap["indexes"])
    assert indexdefs.keys() >= TRGM_INDEXES | {"ux_mv_descriptor_search_key"}
    assert "gin_trgm_ops" in indexdefs["ix_flavor_descriptors_normalized_trgm"]
    assert "NULLS NOT DISTINCT" in indexdefs["ux_mv_descriptor_search_key"]
    assert snap["invalid_indexes"] == []
    # No tsvector column: the weighted vector is an expression index.
    columns = {c for t, c, *_ in snap["columns"] if t == "flavor_descriptors"}
    assert not {c for c in columns if "search" in c or "tsv" in c}
    config = dict(
        query(
            head_db_url,
            "SELECT proname, array_to_string(proconfig, ' ') FROM pg_proc WHERE proname = ANY(%s)",
            (list(SEARCH_FUNCTIONS),),
        )
    )
    assert config.keys() == SEARCH_FUNCTIONS
    assert all('search_path=""' in c.split() for c in config.values())


def test_full_text_vector_is_weighted_and_indexed(searchable: str) -> None:
    vector = scalar(
        searchable,
        "SELECT public.descriptor_search_vector('Crème  Brûlée', 'Sweet', 'Dessert')::text",
    )
    assert vector == "'brulee':2A 'creme':1A 'dessert':4C 'sweet':3B"
    plan = "\n".join(
        r[0]
        for r in query(
            searchable,
            "SET enable_seqscan = off; EXPLAIN SELECT id FROM public.flavor_descriptors "
            "WHERE public.descriptor_search_vector(descriptor_text, category, subcategory) "
            "@@ 'brulee'::tsquery",
        )
    )
    # The index itself, or (partitioned) its copy on each partition.
    used = re.search(r"Index Scan on \S*(ix_flavor_descriptors|descriptor)_search_vector", plan)
    assert used, plan


def test_find_similar_across_users_ranks_by_similarity_then_use(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT descriptor_text, descriptor_type, category, subcategory, usage_count, "
        "round(similarity::numeric, 3)::float8 FROM public.find_similar_descriptors('chery')",
    )
    assert rows == [
        ("cherry", "aroma", "Fruity", "Stone fruit", 5, 0.625),
        ("cherrry", "aroma", "Fruity", "Stone fruit", 1, 0.556),
        ("Chérry Pie", "flavor", "Sweet", "Dessert", 1, 0.417),
    ]


def test_find_similar_folds_accents_case_and_spacing(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT descriptor_text, usage_count, similarity "
        "FROM public.find_similar_descriptors('  CHÉRRY ', p_similarity_threshold => 0.6)",
    )
    assert rows == [
        ("cherry", 5, 1.0),
        ("cherrry", 1, 0.875),
        ("Chérry Pie", 1, pytest.approx(7 / 11, abs=1e-6)),
    ]


def test_find_similar_for_one_user_counts_only_their_rows(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT descriptor_text, category, usage_count, id IN "
        "(SELECT id FROM public.flavor_descriptors WHERE user_id = %s) "
        "FROM public.find_similar_descriptors('cherry', %s)",
        (USER_B, USER_B),
    )
    assert rows == [("cherry", None, 1, True), ("Chérry Pie", "Sweet", 1, True)]
    assert (
        query(
            searchable, "SELECT * FROM public.find_similar_descriptors('cherry', %s)", (USER_EMPTY,)
        )
        == []
    )


def test_find_similar_filters_type_and_limit(searchable: str) -> None:
    flavor = query(
        searchable,
        "SELECT descriptor_text FROM public.find_similar_descriptors('cherry', NULL, 'flavor')",
    )
    assert flavor == [("Chérry Pie",)]
    first = query(
        searchable,
        "SELECT descriptor_text FROM public.find_similar_descriptors('cherry', p_limit => 1)",
    )
    assert first == [("cherry",)]
    # An absurd limit is capped, not refused.
    assert (
        len(
            query(
                searchable,
                "SELECT * FROM public.find_similar_descriptors('cherry', p_limit => 2000000000)",
            )
        )
        == 3
    )


def test_find_similar_leaves_the_session_threshold_alone(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT count(*) FROM public.find_similar_descriptors('cherry', "
        "p_similarity_threshold => 0.9); SELECT show_limit()",
    )
    assert rows == [(pytest.approx(0.3),)]


def test_find_duplicates_pairs_distinct_forms_of_one_user(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT descriptor1_text, descriptor2_text, round(similarity::numeric, 3)::float8, "
        "descriptor_type FROM public.find_duplicate_descriptors(%s, 0.6)",
        (USER_A,),
    )
    # Spelling variants of one normalized form (creme brulee) are not pairs.
    assert rows == [("cherrry", "cherry", 0.875, "aroma"), ("vanila", "Vanilla", 0.667, "aroma")]
    strict = query(
        searchable,
        "SELECT descriptor1_text FROM public.find_duplicate_descriptors(%s)",
        (USER_A,),
    )
    assert strict == [("cherrry",)]
    ids_are_users = scalar(
        searchable,
        "SELECT bool_and(d1.user_id = %s AND d2.user_id = %s) "
        "FROM public.find_duplicate_descriptors(%s, 0.6) f "
        "JOIN public.flavor_descriptors d1 ON d1.id = f.descriptor1_id "
        "JOIN public.flavor_descriptors d2 ON d2.id = f.descriptor2_id",
        (USER_A, USER_A, USER_A),
    )
    assert ids_are_users is True
    for user in (USER_B, USER_EMPTY):
        assert (
            query(searchable, "SELECT * FROM public.find_duplicate_descriptors(%s, 0.3)", (user,))
            == []
        )


def test_autocomplete_prefix_first_then_typo_tolerant(searchable: str) -> None:
    prefix = query(
        searchable,
        "SELECT public.normalize_descriptor_text(descriptor_text), usage_count, match_type "
        "FROM public.autocomplete_descriptors('CRÈ')",
    )
    assert prefix == [("creme brulee", 3, "prefix")]
    typo = query(
        searchable,
        "SELECT descriptor_text, usage_count, match_type "
        "FROM public.autocomplete_descriptors('chery')",
    )
    assert typo == [
        ("cherry", 5, "similar"),
        ("cherrry", 1, "similar"),
        ("Chérry Pie", 1, "similar"),
    ]
    mixed = query(
        searchable,
        "SELECT descriptor_text, match_type FROM public.autocomplete_descriptors('vanill')",
    )
    assert mixed == [("Vanilla", "prefix"), ("vanila", "similar")]


def test_autocomplete_most_used_first_with_filters(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT descriptor_text, category, usage_count "
        "FROM public.autocomplete_descriptors('ch', p_category => ' FRUITY')",
    )
    assert rows == [("cherry", "Fruity", 4), ("cherrry", "Fruity", 1)]
    mine = query(
        searchable,
        "SELECT descriptor_text, category, usage_count "
        "FROM public.autocomplete_descriptors('che', %s)",
        (USER_B,),
    )
    # Ties in use are broken by the normalized form; B's own category (NULL) is kept.
    assert mine == [("cherry", None, 1), ("Chérry Pie", "Sweet", 1)]
    assert (
        query(searchable, "SELECT * FROM public.autocomplete_descriptors('che', %s)", (USER_EMPTY,))
        == []
    )
    # LIKE wildcards in the prefix are literal characters.
    assert query(searchable, "SELECT * FROM public.autocomplete_descriptors('%%')") == []
    assert query(searchable, "SELECT * FROM public.autocomplete_descriptors('_')") == []


def test_suggest_category_weights_similar_forms(searchable: str) -> None:
    rows = query(
        searchable,
        "SELECT suggested_category, suggested_subcategory, round(confidence::numeric, 3)::float8, "
        "based_on_count FROM public.suggest_descriptor_category('Cherry')",
    )
    # Weights: cherry (similarity 1) x3 + cherrry (0.875) x1; Fruity/NULL 1; pie 7/11.
    assert rows == [
        ("Fruity", "Stone fruit", 0.703, 4),
        ("Fruity", None, 0.181, 1),
        ("Sweet", "Dessert", 0.115, 1),
    ]
    assert query(searchable, "SELECT * FROM public.suggest_descriptor_category('zzz')") == []


@pytest.mark.parametrize(
    ("sql", "sqlstate", "argument"),
    [
        ("SELECT * FROM public.find_similar_descriptors(NULL)", "22004", "p_search_text"),
        ("SELECT * FROM public.find_similar_descriptors('  ')", "22023", "p_search_text"),
        ("SELECT * FROM public.find_similar_descriptors('a', p_limit => 0)", "22023", "p_limit"),
        ("SELECT * FROM public.find_similar_descriptors('a', p_limit => -5)", "22023", "p_limit"),
        ("SELECT * FROM public.find_similar_descriptors('a', p_limit => NULL)", "22004", "p_limit"),
        (
            "SELECT * FROM public.find_similar_descriptors('a', NULL, 'smell')",
            "22023",
            "p_descriptor_type",
        ),
        (
            "SELECT * FROM public.find_similar_descriptors('a', p_similarity_threshold => 0)",
            "22023",
            "p_similarity_threshold",
        ),
        (
            "SELECT * FROM public.find_similar_descriptors('a', p_similarity_threshold => 1.5)",
            "22023",
            "p_similarity_threshold",
        ),
        # Subnormal: pg_trgm's setting would refuse it in its own words.
        (
            "SELECT * FROM public.find_similar_descriptors('a', p_similarity_threshold => 5e-324)",
            "22023",
            "p_similarity_threshold",
        ),
        (
            "SELECT * FROM public.find_duplicate_descriptors(gen_random_uuid(), 1e-310)",
            "22023",
            "p_similarity_threshold",
        ),
        (
            "SELECT * FROM public.suggest_descriptor_category('a', 5e-324)",
            "22023",
            "p_similarity_threshold",
        ),
        ("SELECT * FROM public.find_duplicate_descriptors(NULL)", "22004", "p_user_id"),
        (
            "SELECT * FROM public.find_duplicate_descriptors(gen_random_uuid(), NULL)",
            "22004",
            "p_similarity_threshold",
        ),
        ("SELECT * FROM public.autocomplete_descriptors('')", "22023", "p_prefix"),
        ("SELECT * FROM public.autocomplete_descriptors(NULL)", "22004", "p_prefix"),
        (
            "SELECT * FROM public.autocomplete_descriptors('a', p_category => '')",
            "22023",
            "p_category",
        ),
        ("SELECT * FROM public.autocomplete_descriptors('a', p_limit => 0)", "22023", "p_limit"),
        ("SELECT * FROM public.suggest_descriptor_category(NULL)", "22004", "p_descriptor_text"),
    ],
)
def test_bad_input_is_a_clear_error(
    searchable: str, sql: str, sqlstate: str, argument: str
) -> None:
    code, message = error_of(searchable, sql)
    assert code == sqlstate
    assert argument in message


def test_functions_ignore_the_callers_search_path(searchable: str) -> None:
    for path in ("pg_catalog", "nonexistent, pg_temp"):
        rows = call_as(
            searchable,
            "SELECT descriptor_text FROM public.find_similar_descriptors('cherry', p_limit => 1)",
            search_path=path,
        )
        assert rows == [("cherry",)]
        assert call_as(
            searchable,
            "SELECT count(*) FROM public.autocomplete_descriptors('che')",
            search_path=path,
        ) == [(3,)]


def test_downgrade_to_001_and_upgrade_again_keeps_every_row(head_db_url: str) -> None:
    load_sample(head_db_url, 2000)
    load_handbuilt(head_db_url)
    before = descriptors_checksum(head_db_url)
    migrations.downgrade(head_db_url, "001")
    assert descriptors_checksum(head_db_url) == before
    snap = catalog_snapshot(head_db_url)
    assert ("pg_trgm",) not in snap["extensions"]  # created by 002, nothing else uses it
    assert ("unaccent",) in snap["extensions"]  # 001's
    assert not TRGM_INDEXES & {name for name, _ in snap["indexes"]}
    assert not {name for name, _ in snap["relations"]} & set(SEARCH_VIEWS)
    migrations.upgrade(head_db_url, "head")
    assert descriptors_checksum(head_db_url) == before
    refresh_search(head_db_url)
    assert (
        scalar(
            head_db_url,
            "SELECT usage_count FROM public.find_similar_descriptors('cherry', %s)",
            (USER_A,),
        )
        == 4
    )


def test_downgrade_keeps_pg_trgm_while_something_else_uses_it(head_db_url: str) -> None:
    execute(
        head_db_url,
        "CREATE TABLE public.notes (body text); "
        "CREATE INDEX notes_trgm ON public.notes USING gin (body gin_trgm_ops)",
    )
    migrations.downgrade(head_db_url, "001")
    assert scalar(head_db_url, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'") == 1
    assert scalar(head_db_url, "SELECT to_regclass('public.notes_trgm')::text") == "notes_trgm"
    migrations.upgrade(head_db_url, "head")


def test_upgrade_is_re_runnable_over_its_own_objects(head_db_url: str) -> None:
    load_handbuilt(head_db_url)
    before = catalog_snapshot(head_db_url)
    result = run_alembic(head_db_url, "stamp", "001")
    assert result.returncode == 0, result.stderr
    result = run_alembic(head_db_url, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    assert catalog_snapshot(head_db_url) == before


def test_supabase_puts_pg_trgm_in_extensions(supabase_head_db_url: str) -> None:
    schema = scalar(
        supabase_head_db_url,
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'",
    )
    assert schema == "extensions"
    load_handbuilt(supabase_head_db_url, supabase=True)
    refresh_search(supabase_head_db_url)
    rows = call_as(
        supabase_head_db_url,
        "SELECT descriptor_text FROM public.find_similar_descriptors('cherry')",
        search_path="public",
    )
    assert rows == [("cherry",), ("cherrry",), ("Chérry Pie",)]


@pytest.fixture
def supabase_searchable(supabase_head_db_url: str) -> str:
    load_handbuilt(supabase_head_db_url, supabase=True)
    refresh_search(supabase_head_db_url)
    return supabase_head_db_url


def test_signed_in_user_sees_only_their_own_forms(supabase_searchable: str) -> None:
    url = supabase_searchable
    as_a = {"role": "authenticated", "sub": USER_A}
    rows = call_as(
        url,
        "SELECT descriptor_text, usage_count FROM public.find_similar_descriptors('cherry')",
        **as_a,
    )
    assert rows == [("cherry", 4), ("cherrry", 1)]  # not B's row nor B's 'Chérry Pie'
    assert (
        call_as(url, "SELECT * FROM public.find_similar_descriptors('secret note')", **as_a) == []
    )
    assert call_as(url, "SELECT * FROM public.autocomplete_descriptors('sec')", **as_a) == []
    assert call_as(
        url, "SELECT usage_count FROM public.autocomplete_descriptors('che')", **as_a
    ) == [(4,), (1,)]
    assert call_as(
        url, "SELECT count(*) FROM public.find_duplicate_descriptors(%s)", (USER_A,), **as_a
    ) == [(1,)]
    as_empty = {"role": "authenticated", "sub": USER_EMPTY}
    assert call_as(url, "SELECT * FROM public.find_similar_descriptors('cherry')", **as_empty) == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM public.find_similar_descriptors('cherry', %s)",
        "SELECT * FROM public.find_duplicate_descriptors(%s)",
        "SELECT * FROM public.autocomplete_descriptors('che', %s)",
    ],
)
def test_p_user_id_is_no_way_around_row_level_security(supabase_searchable: str, sql: str) -> None:
    url = supabase_searchable
    assert sqlstate_of(url, sql, (USER_B,), role="authenticated", sub=USER_A) == "42501"
    assert sqlstate_of(url, sql, (USER_B,), role="anon") == "42501"
    # service_role bypasses row level security anyway, so it may ask for anyone.
    assert call_as(url, sql, (USER_A,), role="service_role")


def test_api_roles_read_only_the_shared_vocabulary(supabase_searchable: str) -> None:
    """Every form anyone wrote is the owner's; the API roles read what three users wrote."""
    url = supabase_searchable
    assert call_as(
        url, "SELECT count(*) FROM public.mv_descriptor_search", role="service_role"
    ) == [(12,)]
    for role in ("anon", "authenticated"):
        for table in ("mv_descriptor_search", "mv_descriptor_search_forms"):
            sql = f"SELECT count(*) FROM public.{table}"
            assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501"
        # Two users wrote "cherry", one everything else: nothing is shared yet.
        assert call_as(
            url, "SELECT count(*) FROM public.mv_descriptor_search_shared", role=role, sub=USER_A
        ) == [(0,)]
        for table in ("mv_descriptor_search", "mv_descriptor_search_shared"):
            sql = f"DELETE FROM public.{table}"
            assert sqlstate_of(url, sql, role=role, sub=USER_A) == "42501"
    everyone = call_as(
        url,
        "SELECT descriptor_text FROM public.find_similar_descriptors('cherry')",
        role="service_role",
    )
    assert ("Chérry Pie",) in everyone


# --- precomputed answers (prefixes, forms) and live duplicates -------------------------


def test_duplicates_are_live_and_match_brute_force(head_db_url: str) -> None:
    load_sample(head_db_url, 2000)
    load_handbuilt(head_db_url)
    refresh_search(head_db_url)
    sql = (
        "SELECT descriptor1_text, descriptor2_text, round(similarity::numeric, 3)::float8 "
        "FROM public.find_duplicate_descriptors(%s, %s)"
    )
    # A new spelling is a duplicate at once, with no refresh in between.
    execute(
        head_db_url,
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (%s, 'quick_tasting', gen_random_uuid(), "
        "'vanillla', 'aroma')",
        (USER_A,),
    )
    assert ("Vanilla", "vanillla", 0.889) in query(head_db_url, sql, (USER_A, 0.8))
    users = column(head_db_url, "SELECT DISTINCT user_id FROM public.flavor_descriptors")
    live = (
        "WITH mine AS (SELECT DISTINCT normalized_form AS form, descriptor_type "
        "FROM public.flavor_descriptors WHERE user_id = %s) "
        "SELECT a.form, b.form, a.descriptor_type FROM mine a JOIN mine b "
        "ON b.descriptor_type = a.descriptor_type AND b.form > a.form "
        "WHERE similarity(a.form, b.form)::float8 >= %s "
        "ORDER BY similarity(a.form, b.form) DESC, 1, 2, 3"
    )
    found = (
        "SELECT normalize_descriptor_text(descriptor1_text), "
        "normalize_descriptor_text(descriptor2_text), descriptor_type "
        "FROM public.find_duplicate_descriptors(%s, %s, 1000)"
    )
    compared = 0
    for user in users:
        for threshold in (0.7, 0.8):
            expected = query(head_db_url, live, (user, threshold))
            assert query(head_db_url, found, (user, threshold)) == expected
            compared += len(expected)
    assert compared > 0


BRUTE_FORCE_DUPLICATES = """
WITH mine AS (SELECT normalized_form AS form, descriptor_type,
                     mode() WITHIN GROUP (ORDER BY descriptor_text) AS shown,
                     min(id::text)::uuid AS any_id
              FROM public.flavor_descriptors WHERE user_id = %(user)s GROUP BY 1, 2)
SELECT a.any_id, a.shown, b.any_id, b.shown, similarity(a.form, b.form)::float8,
       a.descriptor_type
FROM mine a JOIN mine b ON b.descriptor_type = a.descriptor_type AND b.form > a.form
WHERE similarity(a.form, b.form)::float8 >= %(t)s
ORDER BY 5 DESC, a.form, b.form, a.descriptor_type LIMIT 1000
"""


def test_duplicates_of_heavy_users_come_from_the_refresh(head_db_url: str) -> None:
    # 8,000 sample rows over 37 users: every one has at least 200 rows.
    load_sample(head_db_url, 8000)
    load_handbuilt(head_db_url)
    refresh_search(head_db_url)
    heavy = column(
        head_db_url, "SELECT user_id::text FROM public.mv_descriptor_search_pair_users ORDER BY 1"
    )
    assert len(heavy) == 37
    assert USER_A not in heavy
    found = "SELECT * FROM public.find_duplicate_descriptors(%(user)s, %(t)s, 1000)"
    compared = 0
    # 0.6 is below the precomputed floor (0.7): compared live.
    for user in heavy[:4]:
        for t in (0.6, 0.7, 0.8, 0.95):
            expected = query(head_db_url, BRUTE_FORCE_DUPLICATES, {"user": user, "t": t})
            assert query(head_db_url, found, {"user": user, "t": t}) == expected
            compared += len(expected)
    assert compared > 0
    # A heavy user's new spelling shows at the floor only after the next refresh;
    # below it, at once.
    user = heavy[0]
    [(text, kind)] = query(
        head_db_url,
        "SELECT descriptor_text, descriptor_type FROM public.flavor_descriptors "
        "WHERE user_id = %s AND normalized_form LIKE 'cherry %%' ORDER BY 1 LIMIT 1",
        (user,),
    )
    typo = text.replace("herry", "herrry")
    execute(
        head_db_url,
        "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
        "descriptor_text, descriptor_type) VALUES (%s, 'quick_tasting', gen_random_uuid(), "
        "%s, %s)",
        (user, typo, kind),
    )
    pair = (typo, text.strip())
    texts = (
        "SELECT descriptor1_text, descriptor2_text "
        "FROM public.find_duplicate_descriptors(%s, %s, 1000)"
    )
    assert pair in query(head_db_url, texts, (user, 0.6))
    assert pair not in query(head_db_url, texts, (user, 0.8))
    refresh_search(head_db_url)
    assert pair in query(head_db_url, texts, (user, 0.8))
    assert query(head_db_url, found, {"user": user, "t": 0.8}) == query(
        head_db_url, BRUTE_FORCE_DUPLICATES, {"user": user, "t": 0.8}
    )


def test_autocomplete_top_prefixes_break_ties_by_form(searchable: str) -> None:
    table = query(
        searchable,
        "SELECT rank, normalized_form, usage_count FROM public.mv_descriptor_search_prefixes "
        "WHERE prefix = 'ch' ORDER BY rank",
    )
    assert table == [(1, "cherry", 5), (2, "cherrry", 1), (3, "cherry pie", 1)]
    sql = (
        "SELECT descriptor_text, usage_count, match_type "
        "FROM public.autocomplete_descriptors(%s, p_limit => %s)"
    )
    # In the table and enough matches; the same through the prefix index (5+ characters).
    assert query(searchable, sql, ("ch", 2)) == [("cherry", 5, "prefix"), ("cherrry", 1, "prefix")]
    for prefix in ("cher", "cherr"):
        assert query(searchable, sql, (prefix, 2)) == [
            ("cherry", 5, "prefix"),
            ("cherrry", 1, "prefix"),
        ]
    # Too few prefix matches: similar forms follow.
    assert query(searchable, sql, ("cherr", 4))[:3] == [
        ("cherry", 5, "prefix"),
        ("cherrry", 1, "prefix"),
        ("Chérry Pie", 1, "prefix"),
    ]
    # A tie in use: 'vanila' sorts before 'vanilla'.
    assert query(searchable, sql, ("van", 10)) == [
        ("vanila", 1, "prefix"),
        ("Vanilla", 1, "prefix"),
    ]


NAIVE_AUTOCOMPLETE = """
WITH forms AS (SELECT normalized_form AS form, descriptor_type, count(*) AS n
               FROM public.flavor_descriptors GROUP BY 1, 2)
SELECT form, descriptor_type, n FROM forms
WHERE form LIKE %(q)s || '%%' OR word_similarity(%(q)s, form) >= 0.5
ORDER BY (form LIKE %(q)s || '%%') DESC, n DESC, form, descriptor_type LIMIT %(lim)s
"""

NAIVE_SIMILAR = """
SELECT form, n FROM (SELECT normalized_form AS form, count(*) AS n
                     FROM public.flavor_descriptors GROUP BY 1) forms
WHERE similarity(form, %(q)s)::float8 >= %(t)s
ORDER BY similarity(form, %(q)s) DESC, n DESC, form LIMIT %(lim)s
"""


def test_fast_paths_give_the_naive_answers(head_db_url: str) -> None:
    load_sample(head_db_url, 2000)
    load_handbuilt(head_db_url)
    refresh_search(head_db_url)
    forms = column(
        head_db_url,
        "SELECT DISTINCT normalized_form FROM public.flavor_descriptors ORDER BY 1 LIMIT 12",
    )
    assert len(forms) == 12
    for form in forms:
        for q in {form[:1], form[:2], form[:3], form[:4], form}:
            for lim in (1, 3, 10):
                got = query(
                    head_db_url,
                    "SELECT normalize_descriptor_text(descriptor_text), descriptor_type, "
                    "usage_count FROM public.autocomplete_descriptors(%s, p_limit => %s)",
                    (q, lim),
                )
                assert got == query(head_db_url, NAIVE_AUTOCOMPLETE, {"q": q, "lim": lim}), q
        # Whole forms, short pieces and typos cross several similarity bands.
        assert_similar_as_naive(
            head_db_url, {form, form[:3], form + "x", form[1:]}, (0.2, 0.3, 0.5, 0.7), (1, 5, 50)
        )


def assert_similar_as_naive(
    url: str, words: Iterable[str], thresholds: Iterable[float], limits: Iterable[int]
) -> None:
    for q, t, lim in itertools.product(words, thresholds, limits):
        got = query(
            url,
            "SELECT normalize_descriptor_text(descriptor_text), usage_count "
            "FROM public.find_similar_descriptors(%s, NULL, NULL, %s, %s)",
            (q, t, lim),
        )
        assert got == query(url, NAIVE_SIMILAR, {"q": q, "t": t, "lim": lim}), (q, t, lim)


def test_per_user_search_tables_show_each_user_their_own_rows(supabase_searchable: str) -> None:
    url = supabase_searchable
    execute(
        url,
        "INSERT INTO public.mv_descriptor_search_pair_users VALUES (%s), (%s)",
        (USER_A, USER_B),
    )
    for table in ("mv_descriptor_search_pair_users", "mv_descriptor_search_user_pairs"):
        assert call_as(url, f"SELECT count(*) FROM public.{table}", role="anon") == [(0,)]
        seen = call_as(
            url,
            f"SELECT DISTINCT user_id::text FROM public.{table}",
            role="authenticated",
            sub=USER_A,
        )
        assert set(seen) <= {(USER_A,)}, table
    assert call_as(
        url,
        "SELECT user_id::text FROM public.mv_descriptor_search_pair_users",
        role="authenticated",
        sub=USER_A,
    ) == [(USER_A,)]
    # The helpers that build the tables are not an API.
    for role in ("anon", "authenticated"):
        for helper in (
            "flavatix_forms_similar_to(text)",
            "flavatix_refresh_search(uuid[], text[], boolean, uuid[], text[], text[], boolean)",
        ):
            assert query(
                url,
                "SELECT has_function_privilege(%s, %s, 'EXECUTE')",
                (role, f"public.{helper}"),
            ) == [(False,)]


BAND_INDEX_PREFIX = "ix_mv_descriptor_search_forms_trgm_"


# Forms of 1 to about 40 trigrams built around a few words: typos, prefixes and
# phrases, so every trigram-count band holds some and a query of any length
# reaches across band edges.
def band_forms() -> list[str]:
    words = ["cherry", "vanilla", "oak", "charcuterie", "yuzu"]
    forms = {"c", "ch", "x"}
    for word in words:
        forms |= {
            word,
            word[:2],
            word[:4],
            word[1:],
            word + word[-1],
            word[:3] + word[4:],
            word + " x",
        }
        for other in words:
            if other != word:
                forms |= {f"{word} {other}", f"{other} {word} jam", f"dark {word} {other} pie"}
    forms |= {" ".join(words), " ".join(reversed(words)) + " notes"}
    return sorted(forms)


def test_similarity_reads_every_band_a_match_can_be_in(head_db_url: str) -> None:
    forms = band_forms()
    execute(
        head_db_url,
        "INSERT INTO public.flavor_descriptors "
        "    (user_id, source_type, source_id, descriptor_text, descriptor_type) "
        "SELECT %s, 'quick_tasting', gen_random_uuid(), f, 'aroma' "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS u (f, i), generate_series(1, 1 + i %% 3)",
        (USER_A, forms),
    )
    refresh_search(head_db_url)
    wrong_counts = scalar(
        head_db_url,
        "SELECT count(*) FROM public.mv_descriptor_search_forms "
        "WHERE trigram_count IS DISTINCT FROM cardinality(show_trgm(normalized_form))",
    )
    assert wrong_counts == 0
    counts = column(
        head_db_url,
        "SELECT DISTINCT trigram_count FROM public.mv_descriptor_search_forms ORDER BY 1",
    )
    assert len(counts) >= 20 and counts[-1] >= 30, counts
    # Each form is in exactly one band index, and every band index is valid.
    bands = query(
        head_db_url,
        "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid), i.indisvalid "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'public.mv_descriptor_search_forms'::regclass "
        "AND i.indpred IS NOT NULL",
    )
    assert {name for name, _, _ in bands} == {
        name for name in SQL_MANAGED["index"] if name.startswith(BAND_INDEX_PREFIX)
    }
    assert all(valid for _, _, valid in bands)
    predicates = [predicate for _, predicate, _ in bands]
    in_bands = " UNION ALL ".join(
        f"SELECT normalized_form FROM public.mv_descriptor_search_forms WHERE {p}"
        for p in predicates
    )
    assert scalar(head_db_url, f"SELECT count(*) FROM ({in_bands}) b") == len(forms)
    assert scalar(
        head_db_url, f"SELECT count(DISTINCT normalized_form) FROM ({in_bands}) b"
    ) == len(forms)
    words = ["cherry", "chery", "oak", "ch", "cherry vanilla", "dark cherry oak pie", forms[-1]]
    assert_similar_as_naive(head_db_url, words, (1e-30, 0.1, 0.3, 0.45, 0.7, 1.0), (3, 20, 1000))
    # The pairs the refresh found (both forms of a new pair are looked up) are
    # every pair a comparison of all forms finds.
    pairs = "SELECT form_a, form_b, similarity FROM public.mv_descriptor_search_pairs ORDER BY 1, 2"
    brute_force = (
        "SELECT a.normalized_form, b.normalized_form, similarity(a.normalized_form, "
        "b.normalized_form) FROM public.mv_descriptor_search_forms a "
        "JOIN public.mv_descriptor_search_forms b ON b.normalized_form > a.normalized_form "
        "WHERE similarity(a.normalized_form, b.normalized_form)::float8 >= 0.7 ORDER BY 1, 2"
    )
    assert query(head_db_url, pairs) == query(head_db_url, brute_force)
    assert query(head_db_url, pairs)
    # A full rebuild looks each pair up from its first form only.
    execute(head_db_url, "SELECT public.refresh_descriptor_views(true)")
    assert query(head_db_url, pairs) == query(head_db_url, brute_force)


def test_a_full_refresh_writes_only_the_rows_that_differ(head_db_url: str) -> None:
    """A trigram index grown row by row scans several times slower than one built whole."""
    load_sample(head_db_url, 600)
    for _ in range(3):  # three users: shared vocabulary
        insert_descriptor(head_db_url, descriptor_text="Cherry")
    refresh_search(head_db_url)
    tables = ("mv_descriptor_search", "mv_descriptor_search_shared", "mv_descriptor_search_forms")

    def versions() -> dict[str, set[tuple[str, str, str]]]:
        return {
            t: set(
                query(
                    head_db_url, f"SELECT ctid::text, xmin::text, normalized_form FROM public.{t}"
                )
            )
            for t in tables
        }

    before = versions()
    assert all(before.values())
    execute(head_db_url, "SELECT public.refresh_descriptor_views(true)")
    assert versions() == before
    insert_descriptor(head_db_url, descriptor_text="Zesty Quince")
    execute(head_db_url, "SELECT public.refresh_descriptor_views(true)")
    after = versions()
    for t in tables:
        written = {form for _, _, form in after[t] - before[t]}
        assert written <= {"zesty quince"}, (t, written)
        assert before[t] <= after[t], t
    assert "zesty quince" in {form for _, _, form in after["mv_descriptor_search_forms"]}


@pytest.mark.parametrize("setting", ["on", "off"])
def test_a_refresh_leaves_the_callers_bitmap_scan_setting_alone(
    head_db_url: str, setting: str
) -> None:
    load_sample(head_db_url, 300)
    with connect(head_db_url) as conn, conn.cursor() as cur:
        cur.execute(f"SET enable_bitmapscan = {setting}")
        for full in (True, False):
            cur.execute("SELECT public.refresh_descriptor_views(%s)", (full,))
            cur.execute("SHOW enable_bitmapscan")
            assert cur.fetchone() == (setting,)
            cur.execute(
                "INSERT INTO public.flavor_descriptors "
                "(user_id, source_type, source_id, descriptor_text, descriptor_type) "
                "VALUES (gen_random_uuid(), 'quick_tasting', gen_random_uuid(), 'Quince', 'aroma')"
            )
        # In one transaction too, where a local setting would outlive the call.
        conn.autocommit = False
        cur.execute("SELECT public.refresh_descriptor_views()")
        cur.execute("SHOW enable_bitmapscan")
        assert cur.fetchone() == (setting,)
        conn.rollback()
