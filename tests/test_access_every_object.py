"""Two users and anon against every object the package makes, listed from the catalog.

On the Supabase stand-in at head, in both of 005's states, populated with two
users' rows and wheels and refreshed summaries. The objects are enumerated from
pg_class and pg_proc in every schema that is not the system's or the platform's,
so objects added later are covered without an edit here. What the API roles may
reach at all is an explicit allow-list; everything else must be out of reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from tests.dbtools import column, connect, execute, insert_descriptor, query
from tests.handbuilt import USER_A, USER_B, call_as, load_handbuilt
from tests.test_hostile_input import ORDINARY, ORDINARY_BY_TYPE

# Supabase's own schemas (the stand-in's auth and extensions), not the package's.
PLATFORM_SCHEMAS = "'auth', 'extensions'"
# Queries below are always run with parameters, so % is written %%.
PACKAGE_SCHEMAS = f"""
SELECT n.oid, n.nspname FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', {PLATFORM_SCHEMAS})
  AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                  AND d.objid = n.oid AND d.deptype = 'e')
"""
NOT_FROM_AN_EXTENSION = (
    "NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
)
RELATIONS = f"""
SELECT c.oid, format('%%I.%%I', s.nspname, c.relname), s.nspname
FROM pg_class c JOIN ({PACKAGE_SCHEMAS}) s ON s.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND {NOT_FROM_AN_EXTENSION.format(oid="c.oid")}
ORDER BY 2
"""
FUNCTIONS = f"""
SELECT p.oid,
       format('%%I.%%I(%%s)', s.nspname, p.proname,
              array_to_string(ARRAY(SELECT format_type(t, NULL)
                                    FROM unnest(p.proargtypes::oid[]) AS t), ',')),
       s.nspname, p.prokind, p.proconfig,
       p.prorettype = 'trigger'::regtype
FROM pg_proc p JOIN ({PACKAGE_SCHEMAS}) s ON s.oid = p.pronamespace
WHERE {NOT_FROM_AN_EXTENSION.format(oid="p.oid")}
ORDER BY 2
"""
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# A role reaches an object when it may use the schema and has the privilege.
REACHABLE_RELATIONS = f"""
SELECT r.name, p.privilege
FROM ({RELATIONS}) AS r(oid, name, nspname)
CROSS JOIN unnest(%(privileges)s::text[]) AS p(privilege)
WHERE has_schema_privilege(%(role)s, r.nspname, 'USAGE')
  AND has_table_privilege(%(role)s, r.oid, p.privilege)
ORDER BY 1, 2
"""
REACHABLE_FUNCTIONS = f"""
SELECT f.sig FROM ({FUNCTIONS}) AS f(oid, sig, nspname, prokind, proconfig, is_trigger)
WHERE NOT f.is_trigger
  AND has_schema_privilege(%(role)s, f.nspname, 'USAGE')
  AND has_function_privilege(%(role)s, f.oid, 'EXECUTE')
ORDER BY 1
"""

# What the API roles are meant to reach; everything else the package makes is
# for the owner and service_role. "public" stands for PUBLIC, i.e. any role.
USER_TABLES = {
    # The application's own data: row level security keeps each user to their rows.
    "public.flavor_descriptors": ("DELETE", "INSERT", "SELECT", "UPDATE"),
    "public.flavor_wheels": ("DELETE", "INSERT", "SELECT", "UPDATE"),
}
SUMMARIES = {
    # Read by the invoker functions below (they run as the caller). Per-user ones
    # have row level security per user; the global ones carry no user id and
    # hold (or show) only groups at least three users wrote.
    f"public.{name}": ("SELECT",)
    for name in (
        "mv_category_descriptor_summary",
        "mv_descriptor_search_pair_users",
        "mv_descriptor_search_shared",
        "mv_descriptor_search_user_pairs",
        "mv_global_descriptor_stats",
        "mv_refresh_log",  # when each summary was refreshed: no user data
        "mv_user_descriptor_summary",
        "mv_user_wheel_subcategories",
        "mv_wheel_generation_stats",
    )
}
RELATIONS_FOR = {
    "anon": {**USER_TABLES, **SUMMARIES},
    # Function and index names for the client, no user data (read-only).
    "authenticated": {
        **USER_TABLES,
        **SUMMARIES,
        "public.query_performance_hints": ("SELECT",),
    },
    "public": {},
}
# The plan's query API, called through PostgREST's /rpc; each checks whom it
# answers for with flavatix_caller_user().
API_FUNCTIONS = {
    "public.autocomplete_descriptors(text,uuid,text,text,integer)",
    "public.batch_insert_descriptors(jsonb,uuid,text,uuid)",
    "public.descriptor_exists(uuid,text,text)",
    "public.estimate_descriptor_count(uuid)",
    "public.find_duplicate_descriptors(uuid,double precision,integer)",
    "public.find_similar_descriptors(text,uuid,text,double precision,integer)",
    "public.generate_wheel_data_optimized(uuid,text,integer,integer)",
    "public.get_descriptor_timeline(uuid,integer,text)",
    "public.get_descriptors_paginated(uuid,text,text,uuid,timestamp with time zone,integer,text)",
    "public.get_top_descriptors(uuid,text,text,integer)",
    "public.get_user_descriptor_stats(uuid)",
    "public.get_wheel_data_fast(uuid,text,text,text)",
    "public.normalize_descriptor_text(text)",
    "public.suggest_descriptor_category(text,double precision)",
    "public.wheel_needs_regeneration(uuid,integer)",
}
# Helpers the API functions call: they run as the caller, so the caller needs
# EXECUTE. Each checks arguments or builds JSON from what the caller may read.
HELPERS = {
    "public.descriptor_search_vector(text,text,text)",  # index expression, pure
    "public.flavatix_caller_user(uuid,text)",
    "public.flavatix_check_descriptor_type(text,text)",
    "public.flavatix_check_limit(text,text,integer,integer)",
    "public.flavatix_check_text(text,text,text)",
    "public.flavatix_check_threshold(text,double precision)",
    "public.flavatix_wheel_json(text,uuid,text,text[],integer,integer)",
    "public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer)",
}
FUNCTIONS_FOR = {role: API_FUNCTIONS | HELPERS for role in ("anon", "authenticated")}
# The schemas the package makes besides public, none of them for the API roles.
INTERNAL_SCHEMAS = {
    "flavatix_migrations",
    "flavatix_ops",
    "flavatix_partitions",
    "flavatix_unpartitioned",
}
# A procedure that commits as it goes cannot carry SET search_path; it names
# every object by schema instead.
COMMITTING_PROCEDURES = {"flavatix_partitions.run_to(text,integer,boolean)"}

# No exception for search or statistics: what the API roles read of everyone's
# writing holds only groups at least three users wrote (B's wording here is
# B's alone), and no row ids.
B_WHEEL_MARK = "b-private-wheel-mark"
B_TEXTS = ("secret note", "chérry pie", "cherry pie")


@pytest.fixture(params=["switched", "plain"])
def two_users(request: pytest.FixtureRequest) -> str:
    """A Supabase-like head with A's and B's rows and wheels, summaries refreshed."""
    fixture = (
        "supabase_head_db_url" if request.param == "switched" else "supabase_head_plain_db_url"
    )
    url: str = request.getfixturevalue(fixture)
    kind = "partitioned" if request.param == "switched" else "unpartitioned"
    assert query(url, "SELECT flavatix_partitions.live_kind()") == [(kind,)]
    load_handbuilt(url, supabase=True)
    execute(
        url,
        "INSERT INTO public.flavor_wheels (user_id, wheel_type, scope_type, wheel_data) "
        "VALUES (%s, 'aroma', 'personal', '{}'), (%s, 'aroma', 'personal', %s::jsonb), "
        "(NULL, 'aroma', 'universal', '{}')",
        (USER_A, USER_B, f'{{"note": "{B_WHEEL_MARK}"}}'),
    )
    execute(url, "SELECT public.refresh_descriptor_views()")
    execute(url, "SELECT public.capture_performance_snapshot()")
    return url


def ids_of(url: str, user: str) -> tuple[set[str], set[str]]:
    """The user's id, sources and wheel ids; and the ids of the user's descriptor rows."""
    ids = column(
        url,
        "SELECT source_id::text FROM public.flavor_descriptors WHERE user_id = %(u)s "
        "UNION SELECT id::text FROM public.flavor_wheels WHERE user_id = %(u)s",
        {"u": user},
    )
    rows = column(
        url, "SELECT id::text FROM public.flavor_descriptors WHERE user_id = %(u)s", {"u": user}
    )
    assert ids and rows
    return {user, *ids}, set(rows)


def leaks(text: str, ids: tuple[set[str], set[str]]) -> list[str]:
    """What of the user's shows in ``text``: ids, row ids and wording."""
    lowered = text.lower()
    never, row_ids = ids
    found = [i for i in never if i in lowered]
    found += [B_WHEEL_MARK] if B_WHEEL_MARK in lowered else []
    found += [i for i in row_ids if i in lowered]
    found += [t for t in B_TEXTS if t in lowered]
    return found


def readable_relations(url: str, role: str) -> list[str]:
    return sorted(
        {name for name, _ in query(url, REACHABLE_RELATIONS, privileges_for(role, "SELECT"))}
    )


def privileges_for(role: str, *privileges: str) -> dict[str, Any]:
    return {"role": role, "privileges": list(privileges or TABLE_PRIVILEGES)}


# --- what the API roles can reach at all ---------------------------------------------


def test_the_enumeration_covers_every_schema_the_package_makes(
    supabase_head_db_url: str,
) -> None:
    schemas = set(column(supabase_head_db_url, f"SELECT nspname FROM ({PACKAGE_SCHEMAS}) s", {}))
    assert schemas == {"public", *INTERNAL_SCHEMAS}
    relations = column(supabase_head_db_url, f"SELECT name FROM ({RELATIONS}) r(oid, name, n)", {})
    assert "flavatix_migrations.alembic_version" in relations
    assert len(relations) > 40


@pytest.mark.parametrize("role", ["anon", "authenticated", "public"])
def test_api_roles_reach_only_the_allow_list(supabase_head_db_url: str, role: str) -> None:
    url = supabase_head_db_url
    reached: dict[str, list[str]] = {}
    for name, privilege in query(url, REACHABLE_RELATIONS, privileges_for(role)):
        reached.setdefault(name, []).append(privilege)
    assert {k: tuple(sorted(v)) for k, v in reached.items()} == RELATIONS_FOR[role]
    functions = set(column(url, REACHABLE_FUNCTIONS, {"role": role}))
    if role == "public":
        # Some of the same functions: they run as the caller and check whom
        # they answer for, so they give no role more than it may already read.
        assert functions <= API_FUNCTIONS | HELPERS
    else:
        assert functions == FUNCTIONS_FOR[role]
    for schema in INTERNAL_SCHEMAS:
        assert not query(url, "SELECT has_schema_privilege(%s, %s, 'USAGE')", (role, schema))[0][0]


def test_operator_functions_are_for_the_owner_and_service_role(supabase_head_db_url: str) -> None:
    """Monitoring, partition, refresh and rollback functions: not anon's, nor authenticated's."""
    url = supabase_head_db_url
    everything = set(column(url, f"SELECT sig FROM ({FUNCTIONS}) f(o, sig, n, k, c, t)", {}))
    for sig in (
        "public.refresh_descriptor_views(boolean)",
        "public.run_partition_maintenance()",
        "public.capture_performance_snapshot()",
        "public.get_monitoring_dashboard()",
        "public.rollback_all_migrations(boolean,text)",
        "public.verify_migrations()",
        "flavatix_migrations.run_rollback(text,boolean,boolean,text)",
    ):
        assert sig in everything
        assert sig not in FUNCTIONS_FOR["anon"] | FUNCTIONS_FOR["authenticated"]
    # The allow-list names only what exists: no stale entry hides a rename.
    assert FUNCTIONS_FOR["authenticated"] <= everything


def test_every_function_pins_its_search_path(supabase_head_db_url: str) -> None:
    unpinned = [
        sig
        for _, sig, _, kind, config, _ in query(supabase_head_db_url, FUNCTIONS, {})
        if not any(setting.startswith("search_path=") for setting in config or [])
        and not (kind == "p" and sig in COMMITTING_PROCEDURES)
    ]
    assert unpinned == []


# --- two users, through every relation and function ----------------------------------


def test_a_reads_nothing_of_b_through_any_relation(two_users: str) -> None:
    url = two_users
    ids = ids_of(url, USER_B)
    relations = readable_relations(url, "authenticated")
    assert "public.flavor_descriptors" in relations
    found = {}
    for relation in relations:
        rows = call_as(
            url, f"SELECT t::text FROM {relation} AS t", role="authenticated", sub=USER_A
        )
        text = "\n".join(r[0] for r in rows)
        if relation == "public.flavor_descriptors":
            assert USER_A in text  # A does see A's own rows
        hits = leaks(text, ids)
        if hits:
            found[relation] = hits
    assert found == {}


def test_anon_reads_no_user_data_through_any_relation(two_users: str) -> None:
    url = two_users
    found = {}
    with_user_ids = set(
        column(
            url,
            f"SELECT r.name FROM ({RELATIONS}) r(oid, name, n) JOIN pg_attribute a "
            "ON a.attrelid = r.oid AND a.attname = 'user_id' AND NOT a.attisdropped",
            {},
        )
    )
    assert {"public.flavor_descriptors", "public.mv_user_descriptor_summary"} <= with_user_ids
    for relation in readable_relations(url, "anon"):
        rows = call_as(url, f"SELECT t::text FROM {relation} AS t", role="anon")
        text = "\n".join(r[0] for r in rows)
        if relation in with_user_ids:
            # Only rows that belong to no one (universal wheels).
            owned = f"SELECT count(*) FROM {relation} WHERE user_id IS NOT NULL"
            assert call_as(url, owned, role="anon") == [(0,)], relation
        for user in (USER_A, USER_B):
            hits = leaks(text, ids_of(url, user))
            if hits:
                found[f"{relation} {user}"] = hits
    assert found == {}


def arguments(names: list[str], types: list[str], user: str | None) -> list[Any]:
    """Ordinary values, ``user`` for every uuid, B's wording for every search text."""
    values = []
    for name, kind in zip(names, types, strict=True):
        if kind == "uuid":
            values.append(user)
        elif kind == "text" and name in ("p_search_text", "p_prefix", "p_descriptor_text"):
            values.append("secret note")
        else:
            values.append(ORDINARY.get(name, ORDINARY_BY_TYPE[kind]))
    return values


def function_calls(url: str) -> Iterator[tuple[str, str, list[Any]]]:
    """(signature, call, values) for every function A may run: with B's id, then with NULL."""
    signatures = set(column(url, REACHABLE_FUNCTIONS, {"role": "authenticated"}))
    for oid, sig, *_ in query(url, FUNCTIONS, {}):
        if sig not in signatures:
            continue
        names, types = query(
            url,
            "SELECT coalesce(proargnames[1:pronargs], '{}'), "
            "ARRAY(SELECT format_type(t, NULL) FROM unnest(proargtypes::oid[]) AS t) "
            "FROM pg_proc WHERE oid = %s",
            (oid,),
        )[0]
        placeholders = ", ".join(f"%s::{kind}" for kind in types)
        sql = f"SELECT t::text FROM {sig.split('(')[0]}({placeholders}) AS t"
        yield sig, sql, arguments(names, types, USER_B)
        if "uuid" in types:
            yield sig, sql, arguments(names, types, None)


def test_a_gets_nothing_of_b_from_any_function(two_users: str) -> None:
    url = two_users
    ids = ids_of(url, USER_B)
    found: dict[str, Any] = {}
    refused = set()
    for sig, sql, values in function_calls(url):
        try:
            rows = call_as(url, sql, values, role="authenticated", sub=USER_A)
        except psycopg2.Error as exc:
            state = str(exc.pgcode)
            if state == "42501":
                refused.add(sig)
            elif state[:2] in ("XX", "42", "57"):
                found[sig] = f"SQLSTATE {state}: {exc.diag.message_primary}"
            continue
        hits = leaks("\n".join(r[0] or "" for r in rows), ids)
        if hits:
            found[f"{sig} {values}"] = hits
    assert found == {}
    # Asking for B's data by B's id is refused, not answered with nothing.
    assert {
        "public.get_user_descriptor_stats(uuid)",
        "public.find_duplicate_descriptors(uuid,double precision,integer)",
        "public.get_descriptor_timeline(uuid,integer,text)",
    } <= refused


B_ROWS = """
SELECT (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM public.flavor_descriptors t
        WHERE user_id = %(b)s),
       (SELECT md5(string_agg(t::text, '' ORDER BY id)) FROM public.flavor_wheels t
        WHERE user_id = %(b)s)
"""


def test_a_cannot_change_or_remove_bs_rows(two_users: str) -> None:
    url = two_users
    before = query(url, B_ROWS, {"b": USER_B})
    writable = {
        name
        for name, _ in query(
            url, REACHABLE_RELATIONS, privileges_for("authenticated", "UPDATE", "DELETE")
        )
    }
    assert writable == set(USER_TABLES)
    for relation in sorted(writable):
        for sql in (
            f"UPDATE {relation} SET user_id = %(a)s WHERE user_id = %(b)s RETURNING id",
            f"DELETE FROM {relation} WHERE user_id = %(b)s RETURNING id",
        ):
            changed = call_as(
                url, sql, {"a": USER_A, "b": USER_B}, role="authenticated", sub=USER_A, commit=True
            )
            assert changed == [], sql
    assert query(url, B_ROWS, {"b": USER_B}) == before
    # TRUNCATE ignores row level security: no API role may run it.
    with connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL ROLE authenticated")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("TRUNCATE public.flavor_descriptors")


# --- the shared vocabulary -------------------------------------------------------------

USER_C = "00000000-0000-4000-8000-00000000cccc"
USER_D = "00000000-0000-4000-8000-00000000dddd"


def test_only_what_three_users_wrote_is_shared(two_users: str) -> None:
    """A, C and D's "peat smoke" is vocabulary; B's "secret note" and A and B's "cherry" are not."""
    url = two_users
    execute(url, "INSERT INTO auth.users (id) VALUES (%s), (%s)", (USER_C, USER_D))
    for user in (USER_A, USER_C, USER_D):
        insert_descriptor(
            url, user_id=user, descriptor_text="Peat Smoke", category="Smoky", subcategory="Peat"
        )
    execute(url, "SELECT public.refresh_descriptor_views()")

    shared = "SELECT normalized_form FROM public.{} ORDER BY 1"
    for table in ("mv_descriptor_search_shared", "mv_global_descriptor_stats"):
        assert call_as(url, shared.format(table), role="anon") == [("peat smoke",)]
    for table in ("mv_descriptor_search", "mv_global_descriptor_stats"):
        everything = column(url, shared.format(table))
        assert {"peat smoke", "cherry", "secret note"} <= set(everything)  # the owner's view
    categories = call_as(
        url,
        "SELECT item_category, normalized_form FROM public.mv_category_descriptor_summary",
        role="authenticated",
        sub=USER_B,
    )
    assert [form for _, form in categories] == ["peat smoke"]

    suggest = "SELECT suggested_category FROM public.suggest_descriptor_category(%s, 0.3)"
    assert call_as(url, suggest, ("peat smok",), role="authenticated", sub=USER_B) == [("Smoky",)]
    assert call_as(url, suggest, ("secret note",), role="authenticated", sub=USER_A) == []
    assert query(url, suggest, ("secret note",)) == [("Mood",)]  # the owner's answer

    # A user's own searches find the user's own words, shared or not.
    similar = "SELECT descriptor_text FROM public.find_similar_descriptors(%s)"
    assert call_as(url, similar, ("secret nte",), role="authenticated", sub=USER_B) == [
        ("secret note",)
    ]
    assert call_as(url, similar, ("secret nte",), role="authenticated", sub=USER_A) == []
    complete = "SELECT descriptor_text, usage_count FROM public.autocomplete_descriptors(%s)"
    assert call_as(url, complete, ("secr",), role="authenticated", sub=USER_B) == [
        ("secret note", 1)
    ]
    assert call_as(url, complete, ("peat",), role="authenticated", sub=USER_B) == []
