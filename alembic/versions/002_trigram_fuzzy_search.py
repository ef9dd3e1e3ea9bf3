"""Trigram fuzzy search: pg_trgm, trigram and full-text indexes, search functions.

Revision ID: 002
Revises: 001
Create Date: 2026-11-29

What the search functions search over: realistic data repeats a few thousand
distinct descriptors across millions of rows, so find_similar_descriptors,
autocomplete_descriptors and suggest_descriptor_category match against
mv_descriptor_search, one row per (normalized form, type, category,
subcategory) with its usage count, through trigram operators (`%`, `<%`) that
its GIN index serves; the threshold is applied with set_config inside the
function (restored on exit), never as a `similarity(...) >= x` filter. A
user's own counts come from index probes on (user_id, normalized_form,
descriptor_type). Forms first written after the last refresh are found after
the next one. find_duplicate_descriptors compares one user's distinct forms,
never raw rows.

The mv_ objects here are tables (under the names the plan gives its
materialized views), not materialized views: revision 003's
refresh_descriptor_views() calls flavatix_refresh_search() with the users and
normalized forms whose rows changed, which recomputes only those groups with
the query that builds each whole table, instead of rebuilding everything.

Access: the tables have row level security on. On Supabase the API roles
read only the shared vocabulary, mv_descriptor_search_shared (the groups at
least SHARED_MIN_USERS users wrote, no user or row ids), and the per-user pair
tables, each user their own rows (user_id = (select auth.uid())); a form
fewer users wrote may be someone's private note, and the other search tables
hold every form with a row id. The functions run as their caller, so those
policies apply to what they read, and ask flavatix_caller_user() which user
they may answer for; a user's searches look in that user's own rows. A caller that row level
security binds (Supabase's anon/authenticated: RLS on flavor_descriptors, no
BYPASSRLS, not superuser, not owner) gets only rows of auth.uid(): p_user_id
NULL means "mine", another user's id is refused (42501). Other callers
(service_role, the owner, plain PostgreSQL without RLS) get what they ask for,
provided they may SELECT flavor_descriptors at all. The calling role is read
from the `role` setting, which SET ROLE (and PostgREST) sets.

Precomputed answers (kept up to date with every other summary by
refresh_descriptor_views(), so as stale as mv_descriptor_search between
refreshes):
- mv_descriptor_search_pairs: every pair of distinct forms whose trigram
  similarity is at least PAIR_FLOOR, found by one trigram index lookup per
  form in mv_descriptor_search_forms (so it grows with the number of forms,
  not with rows or users). mv_descriptor_search_user_pairs joins it to the
  forms of each user listed in mv_descriptor_search_pair_users (at least
  HEAVY_USER_ROWS descriptors at the refresh), so find_duplicate_descriptors
  answers those users at a threshold at or above the floor by one index range
  scan (as of the refresh: each view is refreshed in its own statement, so a
  form written during a refresh may get its pairs only at the next one).
  Other users, and lower thresholds, are compared live: a user's distinct
  forms pairwise, which is cheap for a user with few rows.
  (An exact all-pairs join by shared rare trigrams was tried first: at ten
  million rows its candidate list outgrew the disk.)
- mv_descriptor_search_prefixes: the 100 most used (form, type) groups for
  every 1 to 4 character prefix, so short unfiltered autocomplete prefixes,
  which match thousands of forms, are one index lookup; when the prefix
  matches alone fill the limit no similarity work is done.
- mv_descriptor_search_forms: one row per normalized form with its total use
  and the row find_similar_descriptors shows for it; unfiltered similarity
  searches walk down steps of similarity, most similar first, and stop once
  the limit is reached; within a step they read the forms of the trigram
  counts nearest the query's first and skip those too far off to make the
  answer (see FIND_SIMILAR), so the GIN index hands back few candidates.

The weighted full-text vector is an expression GIN index over the IMMUTABLE
descriptor_search_vector(): no column, so no table rewrite, no backfill and no
extra write per row; queries use the same expression.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs.
import textwrap
from collections.abc import Sequence

from alembic import op

revision: str = "002"
down_revision: str | Sequence[str] | None = "001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both extensions go to schema "extensions" where that exists (Supabase), else
# public; the comment marks what this revision created, for the downgrade.
CREATE_EXTENSIONS = """
DO $$
DECLARE
    ext text;
BEGIN
    FOREACH ext IN ARRAY ARRAY['pg_trgm', 'unaccent'] LOOP
        IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = ext) THEN
            EXECUTE format('CREATE EXTENSION %I SCHEMA %I', ext,
                           CASE WHEN to_regnamespace('extensions') IS NULL
                                THEN 'public' ELSE 'extensions' END);
            EXECUTE format('COMMENT ON EXTENSION %I IS %L', ext,
                           ext || ' (created by flavatix-db revision 002)');
        END IF;
    END LOOP;
END;
$$;
"""

# Who may a SECURITY DEFINER function answer for? See the module docstring.
CREATE_HELPERS = r"""
CREATE OR REPLACE FUNCTION public.flavatix_caller_user(p_user_id uuid, p_function text)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    caller name := CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user
                        ELSE pg_catalog.current_setting('role')::name END;
    bound boolean;
    uid uuid;
BEGIN
    IF NOT pg_catalog.has_table_privilege(caller, 'public.flavor_descriptors', 'SELECT') THEN
        RAISE EXCEPTION '%: permission denied for table flavor_descriptors', p_function
            USING ERRCODE = '42501';
    END IF;
    SELECT c.relrowsecurity
           AND NOT (r.rolsuper OR r.rolbypassrls
                    OR (c.relowner = r.oid AND NOT c.relforcerowsecurity))
      INTO bound
      FROM pg_catalog.pg_class c, pg_catalog.pg_roles r
     WHERE c.oid = 'public.flavor_descriptors'::pg_catalog.regclass AND r.rolname = caller;
    IF NOT coalesce(bound, false) THEN
        RETURN p_user_id;
    END IF;
    IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
        RAISE EXCEPTION '%: row level security is on but auth.uid() does not exist', p_function
            USING ERRCODE = '42501';
    END IF;
    uid := auth.uid();
    IF uid IS NULL THEN
        RAISE EXCEPTION '%: requires a signed-in user', p_function USING ERRCODE = '42501';
    END IF;
    IF p_user_id IS NOT NULL AND p_user_id <> uid THEN
        RAISE EXCEPTION '%: p_user_id must be the signed-in user', p_function
            USING ERRCODE = '42501';
    END IF;
    RETURN uid;
END;
$$;

-- NULL or blank text is refused; the normalized form is returned.
CREATE OR REPLACE FUNCTION public.flavatix_check_text(
    p_function text, p_argument text, p_value text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION '%: % must not be NULL', p_function, p_argument USING ERRCODE = '22004';
    END IF;
    IF public.normalize_descriptor_text(p_value) = '' THEN
        RAISE EXCEPTION '%: % must not be empty', p_function, p_argument USING ERRCODE = '22023';
    END IF;
    RETURN public.normalize_descriptor_text(p_value);
END;
$$;

-- NULL means "any type"; anything else must be a known type.
CREATE OR REPLACE FUNCTION public.flavatix_check_descriptor_type(
    p_function text, p_descriptor_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_descriptor_type IS NOT NULL AND p_descriptor_type NOT IN
            ('aroma', 'flavor', 'texture', 'defect', 'metaphor', 'mouthfeel') THEN
        RAISE EXCEPTION '%: p_descriptor_type must be one of aroma, flavor, texture, defect, '
                        'metaphor, mouthfeel, not %', p_function, p_descriptor_type
            USING ERRCODE = '22023';
    END IF;
    RETURN p_descriptor_type;
END;
$$;

-- A limit must be positive; an absurd one is capped rather than refused.
CREATE OR REPLACE FUNCTION public.flavatix_check_limit(
    p_function text, p_argument text, p_limit integer, p_cap integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_limit IS NULL THEN
        RAISE EXCEPTION '%: % must not be NULL', p_function, p_argument USING ERRCODE = '22004';
    END IF;
    IF p_limit < 1 THEN
        RAISE EXCEPTION '%: % must be at least 1, not %', p_function, p_argument, p_limit
            USING ERRCODE = '22023';
    END IF;
    RETURN least(p_limit, p_cap);
END;
$$;

CREATE OR REPLACE FUNCTION public.flavatix_check_threshold(
    p_function text, p_threshold double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    IF p_threshold IS NULL THEN
        RAISE EXCEPTION '%: p_similarity_threshold must not be NULL', p_function
            USING ERRCODE = '22004';
    END IF;
    -- Similarities are reals: a threshold below the smallest normal real
    -- (1.17549435e-38) would match like any tiny one, and pg_trgm's setting
    -- refuses subnormal values with a message naming its own parameter.
    IF p_threshold < '1.17549435e-38'::real OR p_threshold > 1 OR p_threshold = 'NaN' THEN
        RAISE EXCEPTION '%: p_similarity_threshold must be in (0, 1] and at least '
                        '1.17549435e-38 (the smallest normal real), not %',
                        p_function, p_threshold
            USING ERRCODE = '22023';
    END IF;
    RETURN p_threshold;
END;
$$;
"""

# 'simple' configuration over normalized text: no language guesses, accents and
# case already folded. Weights: text A, category B, subcategory C.
CREATE_SEARCH_VECTOR = """
CREATE OR REPLACE FUNCTION public.descriptor_search_vector(
    p_descriptor_text text, p_category text, p_subcategory text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = ''
RETURN setweight(to_tsvector('pg_catalog.simple'::regconfig,
                             coalesce(public.normalize_descriptor_text(p_descriptor_text), '')),
                 'A')
    || setweight(to_tsvector('pg_catalog.simple'::regconfig,
                             coalesce(public.normalize_descriptor_text(p_category), '')), 'B')
    || setweight(to_tsvector('pg_catalog.simple'::regconfig,
                             coalesce(public.normalize_descriptor_text(p_subcategory), '')), 'C');

COMMENT ON FUNCTION public.descriptor_search_vector(text, text, text) IS
    'Weighted full-text vector of a descriptor (text A, category B, subcategory C); '
    'ix_flavor_descriptors_search_vector indexes it.';
"""

# The search tables. Each body builds a whole table; where it holds {where}
# (or a named placeholder), flavatix_refresh_search() puts there the filter
# that selects only the groups it recomputes, so the groups a refresh
# recomputes are built exactly as a whole build builds them.
#
# One row per (form, type, category, subcategory) with its usage. The display
# text is the most common spelling; sample_id is a stable example row.
SEARCH_BODY = """
SELECT normalized_form,
       descriptor_type,
       category,
       subcategory,
       mode() WITHIN GROUP (ORDER BY descriptor_text) AS descriptor_text,
       count(*) AS usage_count,
       min(id::text)::uuid AS sample_id,
       count(DISTINCT user_id) AS unique_users
FROM public.flavor_descriptors
{where}GROUP BY normalized_form, descriptor_type, category, subcategory
"""

# What the API roles may read of other users' writing: a group at least this
# many users wrote is vocabulary; one fewer users wrote may be someone's own
# note. Revision 003 applies the same number to its aggregates.
SHARED_MIN_USERS = 3

# The shared vocabulary: the groups of mv_descriptor_search at least
# SHARED_MIN_USERS users wrote, without a row id. Its own table, readable by
# the API roles whole: a row filter (row level security) would keep the
# trigram index from serving their searches, since pg_trgm's operators are not
# leakproof.
SHARED_BODY = f"""
SELECT s.normalized_form, s.descriptor_type, s.category, s.subcategory, s.descriptor_text,
       s.usage_count, s.unique_users
FROM public.mv_descriptor_search s
WHERE s.unique_users >= {SHARED_MIN_USERS}{{where}}
"""

PREFIX_TOP = 100  # autocomplete_descriptors caps p_limit at 100
PREFIX_CHARS = 4  # longer prefixes are selective enough for the prefix index
PAIR_FLOOR = 0.7  # find_duplicate_descriptors' default threshold is 0.8
HEAVY_USER_ROWS = 200  # below this, comparing a user's forms live takes a few ms

# The forms' trigram index split by trigram count, one partial index per band.
# similarity = shared / (n_query + n_form - shared), and shared is at most the
# smaller count, so a form at least t similar to a query of n trigrams has
# between t * n and n / t of them: a search reads only the bands that range
# reaches. Without it, a common word's scan rechecked thousands of longer
# forms that contain it (two- and three-word forms hold 12 to 25 trigrams, a
# single word 5 to 13).
FORM_TRIGRAM_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
    (17, 18),
    (19, 21),
    (22, None),
)


def band_index_name(low: int, high: int | None) -> str:
    return f"ix_mv_descriptor_search_forms_trgm_{low}_{'up' if high is None else high}"


def band_predicate(low: int, high: int | None, column: str) -> str:
    if high is None:
        return f"{column} >= {low}"
    if low == 0:
        return f"{column} <= {high}"
    return f"{column} BETWEEN {low} AND {high}"


def forms_in_reach(query: str, columns: str) -> str:
    """The forms of mv_descriptor_search_forms `%` the query, read band by band.

    The caller's PL/pgSQL variables shortest and longest bound the forms'
    trigram counts; bands outside them are skipped whole. The constant range in
    each branch lets the planner use that band's index.
    """
    branches = []
    for low, high in FORM_TRIGRAM_BANDS:
        reach = " AND ".join(
            ([] if high is None else [f"shortest <= {high}"])
            + ([f"longest >= {low}"] if low else [])
        )
        branches.append(f"""SELECT {columns}
FROM public.mv_descriptor_search_forms f
WHERE {band_predicate(low, high, "f.trigram_count")}
  AND {reach}
  AND f.trigram_count BETWEEN shortest AND longest
  AND f.normalized_form OPERATOR(@trgm@.%) {query}""")
    return "\nUNION ALL\n".join(branches)


def band_high(high: int | None) -> int:
    """A band's largest trigram count, the open-ended band's as the largest integer."""
    return 2147483647 if high is None else high


def most_similar(low: str, high: str) -> str:
    """The most a form of low..high trigrams can be similar to a query of n."""
    return (
        f"CASE WHEN {high} < n THEN {high}::double precision / n "
        f"WHEN {low} > n THEN n::double precision / {low} ELSE 1 END"
    )


# The bands' trigram-count bounds as PL/pgSQL integer[] literals.
BAND_LOWS = "{" + ",".join(str(low) for low, _ in FORM_TRIGRAM_BANDS) + "}"
BAND_HIGHS = "{" + ",".join(str(band_high(high)) for _, high in FORM_TRIGRAM_BANDS) + "}"


def band_reads() -> str:
    """find_similar_descriptors' reads of one band each: WHEN branches of `CASE b`."""
    return "\n".join(
        f"""WHEN {number} THEN
    candidates := candidates || ARRAY(
        SELECT f FROM public.mv_descriptor_search_forms f
        WHERE {band_predicate(low, high, "f.trigram_count")}
          AND f.trigram_count BETWEEN low AND high
          AND f.normalized_form OPERATOR(@trgm@.%) q
          AND (above IS NULL
               OR @trgm@.similarity(f.normalized_form, q)::double precision < above));"""
        for number, (low, high) in enumerate(FORM_TRIGRAM_BANDS, 1)
    )


BAND_INDEXES = {
    band_index_name(low, high): (
        "mv_descriptor_search_forms",
        "USING gin (normalized_form gin_trgm_ops) WITH (fastupdate = off) "
        f"WHERE {band_predicate(low, high, 'trigram_count')}",
    )
    for low, high in FORM_TRIGRAM_BANDS
}

# Every other form at least PAIR_FLOOR similar to a form, by the forms' trigram
# bands in reach. `%` compares similarity() (a float4) with the threshold
# exactly as the live comparison does. One generic plan per session: it runs
# once per form in a full build.
SIMILAR_FORMS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.flavatix_forms_similar_to(p_form text)
RETURNS TABLE (normalized_form text, similarity real)
LANGUAGE plpgsql STABLE
SET search_path = ''
SET pg_trgm.similarity_threshold = {PAIR_FLOOR}
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n constant integer := pg_catalog.cardinality(@trgm@.show_trgm(p_form));
    shortest constant integer := pg_catalog.floor({PAIR_FLOOR} * n)::integer;
    longest constant integer := pg_catalog.ceil(n / {PAIR_FLOOR})::integer;
BEGIN
    RETURN QUERY
    SELECT f.normalized_form, @trgm@.similarity(p_form, f.normalized_form)
    FROM ({{forms_in_reach}}) f
    WHERE f.normalized_form <> p_form;
END;
$$;

COMMENT ON FUNCTION public.flavatix_forms_similar_to(text) IS
    'The other forms in mv_descriptor_search_forms at least {PAIR_FLOOR} similar to p_form; '
    'builds mv_descriptor_search_pairs.';

-- Only the tables' owner (who refreshes them) needs it; REVOKE_DERIVED also
-- takes it from the API roles.
REVOKE ALL ON FUNCTION public.flavatix_forms_similar_to(text) FROM PUBLIC;
""".replace(
    "{forms_in_reach}",
    textwrap.indent(forms_in_reach("p_form", "f.normalized_form"), " " * 10).lstrip(),
)

# Every pair of distinct forms at least PAIR_FLOOR similar (form_a < form_b),
# one trigram index lookup per form: it grows with the number of forms, not
# with rows or users, and changes only when a form appears or disappears.
PAIRS_BODY = """
SELECT a.normalized_form AS form_a, s.normalized_form AS form_b, s.similarity
FROM public.mv_descriptor_search_forms a
CROSS JOIN LATERAL public.flavatix_forms_similar_to(a.normalized_form) s
WHERE s.normalized_form > a.normalized_form
"""

PAIR_USERS_BODY = f"""
SELECT d.user_id
FROM public.flavor_descriptors d
{{where}}GROUP BY d.user_id
HAVING pg_catalog.count(*) >= {HEAVY_USER_ROWS}
"""

# The ids and texts are what the live comparison in find_duplicate_descriptors
# shows for a form: its most common spelling and smallest id among the user's
# rows of that form and type.
USER_PAIRS_BODY = """
WITH firsts AS (
    SELECT DISTINCT d.user_id, d.descriptor_type, d.normalized_form
    FROM public.mv_descriptor_search_pair_users u
    JOIN public.flavor_descriptors d ON d.user_id = u.user_id
    WHERE d.normalized_form IN (SELECT p.form_a FROM public.mv_descriptor_search_pairs p){where}
), pairs AS (
    SELECT f.user_id, f.descriptor_type, p.form_a, p.form_b, p.similarity
    FROM firsts f
    JOIN public.mv_descriptor_search_pairs p ON p.form_a = f.normalized_form
    -- One index probe per candidate (a LATERAL with LIMIT, so the planner
    -- cannot turn it into a join of all users' forms on user and type).
    CROSS JOIN LATERAL (SELECT FROM public.flavor_descriptors d
                        WHERE d.user_id = f.user_id AND d.normalized_form = p.form_b
                          AND d.descriptor_type = f.descriptor_type
                        LIMIT 1) has_b
)
{shown}"""

# What a user's pair shows of each side, from the `pairs` before it.
# One LATERAL per side, on purpose: a shared CTE of shown forms joined back on
# four keys led the planner to join all users' forms by user and type
# (measured: about ten times slower on a million rows).
USER_PAIRS_SHOWN = """SELECT p.user_id, p.descriptor_type, p.form_a, p.form_b, p.similarity,
       a.any_id AS descriptor1_id, a.descriptor_text AS descriptor1_text,
       b.any_id AS descriptor2_id, b.descriptor_text AS descriptor2_text
FROM pairs p
CROSS JOIN LATERAL (
    SELECT mode() WITHIN GROUP (ORDER BY d.descriptor_text) AS descriptor_text,
           pg_catalog.min(d.id::text)::uuid AS any_id
    FROM public.flavor_descriptors d
    WHERE d.user_id = p.user_id AND d.normalized_form = p.form_a
      AND d.descriptor_type = p.descriptor_type) a
CROSS JOIN LATERAL (
    SELECT mode() WITHIN GROUP (ORDER BY d.descriptor_text) AS descriptor_text,
           pg_catalog.min(d.id::text)::uuid AS any_id
    FROM public.flavor_descriptors d
    WHERE d.user_id = p.user_id AND d.normalized_form = p.form_b
      AND d.descriptor_type = p.descriptor_type) b
"""
USER_PAIRS_BODY = USER_PAIRS_BODY.replace("{shown}", USER_PAIRS_SHOWN)

# The pairs of the changed (user, form, type) keys of users who were in
# mv_descriptor_search_pair_users before the refresh and still are: every pair
# of mv_descriptor_search_pairs with the key's form on either side whose other
# form the user has in that type too. Exact, because a row (u, t, f, g)
# depends only on the pair (f, g), which appears or disappears only with f or
# g themselves, and on u's rows of (f, t) and (g, t); any change to either is
# a changed key (a form appearing or disappearing everywhere does so in some
# user's rows, which are changed keys).
USER_PAIRS_BY_KEY = """
WITH keys AS (
    SELECT DISTINCT k.u, k.f, k.t
    FROM unnest(p_key_users, p_key_forms, p_key_types) AS k (u, f, t)
    WHERE k.u = ANY (v_stayed)
), candidates AS (
    SELECT k.u, k.t, k.f, p.form_a, p.form_b, p.similarity, p.form_b AS other
    FROM keys k
    JOIN public.mv_descriptor_search_pairs p ON p.form_a = k.f
    UNION ALL
    SELECT k.u, k.t, k.f, p.form_a, p.form_b, p.similarity, p.form_a
    FROM keys k
    JOIN public.mv_descriptor_search_pairs p ON p.form_b = k.f
), pairs AS (
    -- Two changed keys of one pair give it twice.
    SELECT DISTINCT c.u AS user_id, c.t AS descriptor_type, c.form_a, c.form_b, c.similarity
    FROM candidates c
    CROSS JOIN LATERAL (SELECT FROM public.flavor_descriptors d
                        WHERE d.user_id = c.u AND d.normalized_form = c.other
                          AND d.descriptor_type = c.t
                        LIMIT 1) has_other
    CROSS JOIN LATERAL (SELECT FROM public.flavor_descriptors d
                        WHERE d.user_id = c.u AND d.normalized_form = c.f
                          AND d.descriptor_type = c.t
                        LIMIT 1) has_key
)
{shown}""".replace("{shown}", USER_PAIRS_SHOWN)

# The (form, type) groups autocomplete_descriptors shows, aggregated exactly as
# it does, ranked per 1 to PREFIX_CHARS character prefix by (use desc, form, type).
PREFIX_FORMS = """
    SELECT s.normalized_form, s.descriptor_type,
           pg_catalog.sum(s.usage_count)::bigint AS usage_count,
           (pg_catalog.array_agg(s.descriptor_text ORDER BY s.usage_count DESC,
                                 s.descriptor_text))[1] AS descriptor_text,
           (pg_catalog.array_agg(s.category ORDER BY s.usage_count DESC, s.category)
                FILTER (WHERE s.category IS NOT NULL))[1] AS category
    FROM public.mv_descriptor_search s{forms_where}
    GROUP BY s.normalized_form, s.descriptor_type"""
PREFIX_ORDER = "f.usage_count DESC, f.normalized_form, f.descriptor_type"
PREFIX_BODY = f"""
WITH forms AS ({PREFIX_FORMS}
), ranked AS (
    SELECT pg_catalog.left(f.normalized_form, l.len) AS prefix,
           pg_catalog.row_number() OVER (PARTITION BY pg_catalog.left(f.normalized_form, l.len)
                                         ORDER BY {PREFIX_ORDER}) AS rank,
           f.normalized_form, f.descriptor_type, f.usage_count, f.descriptor_text, f.category
    FROM forms f CROSS JOIN pg_catalog.generate_series(1, {PREFIX_CHARS}) AS l(len)
    WHERE pg_catalog.length(f.normalized_form) >= l.len{{where}}
)
SELECT r.prefix, r.rank, r.normalized_form, r.descriptor_type, r.usage_count,
       r.descriptor_text, r.category
FROM ranked r
WHERE r.rank <= {PREFIX_TOP}
"""

# The prefixes of the changed forms, ranked from few rows where that is
# exact. Candidates of a prefix: its rows as of the last refresh except those
# of changed forms (unchanged since), and the changed forms' groups as they
# are now. Every other group under the prefix is unchanged and ranked after
# the prefix's old last row, so the candidates' top PREFIX_TOP is the answer
# if the prefix held fewer than PREFIX_TOP rows (then there is no other
# group), or if the new PREFIX_TOP-th row ranks at or before the old last
# row. The other prefixes (v_reranked) are ranked again from every form under
# them. Only rows that differ are written.
PREFIX_FRESH = PREFIX_FORMS.replace("{forms_where}", "\n    WHERE s.normalized_form {changed}")
PREFIX_ROW = (
    "ROW({t}.prefix, {t}.rank, {t}.normalized_form, {t}.descriptor_type, {t}.usage_count,\n"
    "           {t}.descriptor_text, {t}.category)::public.mv_descriptor_search_prefixes"
)
PREFIXES_INCREMENTAL = f"""
WITH fresh AS ({PREFIX_FRESH}
), old AS MATERIALIZED (
    SELECT o.prefix, o.rank, o.normalized_form, o.descriptor_type, o.usage_count,
           o.descriptor_text, o.category
    FROM public.mv_descriptor_search_prefixes o
    WHERE o.prefix IN (SELECT pg_catalog.unnest(v_prefixes))
), candidates AS (
    SELECT o.prefix, o.normalized_form, o.descriptor_type, o.usage_count, o.descriptor_text,
           o.category
    FROM old o
    WHERE NOT EXISTS (SELECT FROM pg_catalog.unnest(p_forms) AS c (f)
                      WHERE c.f = o.normalized_form)
    UNION ALL
    SELECT pg_catalog.left(f.normalized_form, l.len), f.normalized_form, f.descriptor_type,
           f.usage_count, f.descriptor_text, f.category
    FROM fresh f CROSS JOIN pg_catalog.generate_series(1, {PREFIX_CHARS}) AS l (len)
    WHERE pg_catalog.length(f.normalized_form) >= l.len
), top AS MATERIALIZED (
    SELECT r.prefix, r.rank, r.normalized_form, r.descriptor_type, r.usage_count,
           r.descriptor_text, r.category
    FROM (SELECT f.*, pg_catalog.row_number() OVER (PARTITION BY f.prefix
                                                    ORDER BY {PREFIX_ORDER}) AS rank
          FROM candidates f) r
    WHERE r.rank <= {PREFIX_TOP}
), old_last AS (
    SELECT p.prefix, o.rank, o.usage_count, o.normalized_form, o.descriptor_type
    FROM pg_catalog.unnest(v_prefixes) AS p (prefix)
    CROSS JOIN LATERAL (SELECT o.rank, o.usage_count, o.normalized_form, o.descriptor_type
                        FROM public.mv_descriptor_search_prefixes o
                        WHERE o.prefix = p.prefix
                        ORDER BY o.rank DESC LIMIT 1) o
), exact AS MATERIALIZED (
    SELECT p.prefix
    FROM pg_catalog.unnest(v_prefixes) AS p (prefix)
    LEFT JOIN old_last o ON o.prefix = p.prefix
    LEFT JOIN top n ON n.prefix = p.prefix AND n.rank = {PREFIX_TOP}
    WHERE coalesce(o.rank, 0) < {PREFIX_TOP}
       OR (-n.usage_count, n.normalized_form, n.descriptor_type)
          <= (-o.usage_count, o.normalized_form, o.descriptor_type)
), diff AS MATERIALIZED (
    SELECT t.prefix, t.rank, t.normalized_form, t.descriptor_type, t.usage_count,
           t.descriptor_text, t.category, o.prefix AS old_prefix, o.rank AS old_rank
    FROM (SELECT t.* FROM top t WHERE t.prefix IN (SELECT e.prefix FROM exact e)) t
    FULL JOIN (SELECT o.* FROM old o WHERE o.prefix IN (SELECT e.prefix FROM exact e)) o
      ON o.prefix = t.prefix AND o.rank = t.rank
    WHERE t.prefix IS NULL OR o.prefix IS NULL
       OR (t.normalized_form, t.descriptor_type, t.usage_count, t.descriptor_text, t.category)
          IS DISTINCT FROM
          (o.normalized_form, o.descriptor_type, o.usage_count, o.descriptor_text, o.category)
)
SELECT (SELECT pg_catalog.array_agg({PREFIX_ROW.format(t="d")})
        FROM diff d WHERE d.prefix IS NOT NULL),
       (SELECT pg_catalog.array_agg(d.old_prefix ORDER BY d.old_prefix, d.old_rank)
        FROM diff d WHERE d.prefix IS NULL),
       (SELECT pg_catalog.array_agg(d.old_rank ORDER BY d.old_prefix, d.old_rank)
        FROM diff d WHERE d.prefix IS NULL),
       (SELECT pg_catalog.array_agg(p.prefix)
        FROM pg_catalog.unnest(v_prefixes) AS p (prefix)
        WHERE p.prefix NOT IN (SELECT e.prefix FROM exact e))
INTO v_prefix_rows, v_trim_prefixes, v_trim_ranks, v_reranked;
DELETE FROM public.mv_descriptor_search_prefixes x
USING unnest(v_trim_prefixes, v_trim_ranks) AS t (prefix, rank)
WHERE x.prefix = t.prefix AND x.rank = t.rank;
UPDATE public.mv_descriptor_search_prefixes x
SET normalized_form = n.normalized_form, descriptor_type = n.descriptor_type,
    usage_count = n.usage_count, descriptor_text = n.descriptor_text, category = n.category
FROM pg_catalog.unnest(v_prefix_rows) AS n
WHERE x.prefix = n.prefix AND x.rank = n.rank;
INSERT INTO public.mv_descriptor_search_prefixes
SELECT n.* FROM pg_catalog.unnest(v_prefix_rows) AS n
WHERE NOT EXISTS (SELECT FROM public.mv_descriptor_search_prefixes x
                  WHERE x.prefix = n.prefix AND x.rank = n.rank);
IF v_reranked IS NOT NULL THEN
    DELETE FROM public.mv_descriptor_search_prefixes WHERE prefix = ANY (v_reranked);
    INSERT INTO public.mv_descriptor_search_prefixes
    {{reranked}};
END IF;"""

# One row per normalized form: its use over all types and categories, the
# group find_similar_descriptors shows for it (most used, then type, category,
# subcategory with NULLs last), exactly as the function ranks them, and how
# many distinct trigrams it has (see FORM_TRIGRAM_BANDS).
FORMS_BODY = """
SELECT r.normalized_form, r.form_usage::bigint AS usage_count, r.sample_id,
       r.descriptor_text, r.descriptor_type, r.category, r.subcategory,
       pg_catalog.cardinality(@trgm@.show_trgm(r.normalized_form)) AS trigram_count
FROM (SELECT s.*,
             pg_catalog.sum(s.usage_count) OVER (PARTITION BY s.normalized_form) AS form_usage,
             pg_catalog.row_number() OVER (PARTITION BY s.normalized_form
                                           ORDER BY s.usage_count DESC, s.descriptor_type,
                                                    s.category NULLS LAST,
                                                    s.subcategory NULLS LAST) AS rn
      FROM public.mv_descriptor_search s{where}) r
WHERE r.rn = 1
"""

# name -> (whole build, the changed groups only). In build order: each reads
# the ones before it. Some tables have incremental steps of their own (see
# _refresh_steps). A filter on the changed forms is a join to the unnested
# array: `= ANY (array)` on a column with a trigram index led the planner to
# that index instead of the btree key.
CHANGED_FORMS = "IN (SELECT pg_catalog.unnest(p_forms))"
# A prefix ranked again whole reads only the forms under it, as one range of
# the prefix index: text_pattern_ops compares bytes, and UTF-8 bytes sort as
# code points, so the forms starting with p are those from p up to p with its
# last character's successor (a surrogate is skipped; after U+10FFFF there is
# none, and the prefix's first letter is read instead).
PREFIX_UNDER = """
    WHERE s.normalized_form IN (
        SELECT u.normalized_form
        FROM (SELECT r.p, pg_catalog.ascii(pg_catalog.right(r.p, 1)) AS c
              FROM pg_catalog.unnest(v_reranked) AS r (p)) r
        CROSS JOIN LATERAL (
            SELECT x.normalized_form FROM public.mv_descriptor_search x
            WHERE r.c < 1114111
              AND x.normalized_form OPERATOR(pg_catalog.~>=~) r.p
              AND x.normalized_form OPERATOR(pg_catalog.~<~) (pg_catalog.left(r.p, -1)
                  || pg_catalog.chr(CASE WHEN r.c = 55295 THEN 57344 ELSE r.c + 1 END))
            UNION ALL
            SELECT x.normalized_form FROM public.mv_descriptor_search x
            WHERE r.c >= 1114111
              AND pg_catalog.left(x.normalized_form, pg_catalog.length(r.p)) = r.p) u)"""
PREFIX_RERANKED = (
    PREFIX_BODY.replace("{forms_where}", PREFIX_UNDER)
    .replace("{where}", "\n      AND pg_catalog.left(f.normalized_form, l.len) = ANY (v_reranked)")
    .strip()
)
SEARCH_TABLES: dict[str, tuple[str, str]] = {
    "mv_descriptor_search": (
        SEARCH_BODY.replace("{where}", ""),
        SEARCH_BODY.replace("{where}", "WHERE normalized_form = ANY (p_forms)\n"),
    ),
    "mv_descriptor_search_shared": (
        SHARED_BODY.replace("{where}", ""),
        SHARED_BODY.replace("{where}", f"\n  AND s.normalized_form {CHANGED_FORMS}"),
    ),
    "mv_descriptor_search_forms": (
        FORMS_BODY.replace("{where}", ""),
        FORMS_BODY.replace("{where}", f"\n      WHERE s.normalized_form {CHANGED_FORMS}"),
    ),
    "mv_descriptor_search_prefixes": (
        PREFIX_BODY.replace("{forms_where}", "").replace("{where}", ""),
        PREFIXES_INCREMENTAL.replace("{changed}", CHANGED_FORMS).replace(
            "{reranked}", textwrap.indent(PREFIX_RERANKED, " " * 4).strip()
        ),
    ),
    "mv_descriptor_search_pairs": (PAIRS_BODY, ""),
    "mv_descriptor_search_pair_users": (
        PAIR_USERS_BODY.replace("{where}", ""),
        PAIR_USERS_BODY.replace("{where}", "WHERE d.user_id = ANY (p_users)\n"),
    ),
    "mv_descriptor_search_user_pairs": (
        USER_PAIRS_BODY.replace("{where}", ""),
        USER_PAIRS_BODY.replace("{where}", "\n      AND u.user_id = ANY (v_entered)"),
    ),
}
INCREMENTAL_DELETE = {
    "mv_descriptor_search_user_pairs": "user_id = ANY (v_left)",
}
# Built empty, then filled once the trigram index they are built with exists.
FILLED_LATER = (
    "mv_descriptor_search_pairs",
    "mv_descriptor_search_pair_users",
    "mv_descriptor_search_user_pairs",
)
COMMENTS = {
    "mv_descriptor_search": "Distinct descriptor forms with usage counts, for fuzzy search",
    "mv_descriptor_search_shared": (
        f"The groups of mv_descriptor_search at least {SHARED_MIN_USERS} users wrote (the "
        "vocabulary the API roles may read), for suggest_descriptor_category"
    ),
    "mv_descriptor_search_forms": (
        "One row per normalized form with its total use, for find_similar_descriptors"
    ),
    "mv_descriptor_search_prefixes": (
        f"The {PREFIX_TOP} most used (form, type) groups per 1-{PREFIX_CHARS} character "
        "prefix, for autocomplete_descriptors"
    ),
    "mv_descriptor_search_pairs": (
        f"Pairs of normalized forms (form_a < form_b) with trigram similarity >= {PAIR_FLOOR}"
    ),
    "mv_descriptor_search_pair_users": (
        f"Users with at least {HEAVY_USER_ROWS} descriptors at the last refresh, whose "
        "duplicates are read from mv_descriptor_search_user_pairs"
    ),
    "mv_descriptor_search_user_pairs": (
        f"Pairs of similar forms (>= {PAIR_FLOOR}) within a type of each user in "
        "mv_descriptor_search_pair_users, for find_duplicate_descriptors"
    ),
}


# A refresh updates these tables' changed rows in place (see diff_step); free
# room on each page lets the new version stay there without new entries in
# the trigram index (a HOT update).
UPDATED_IN_PLACE = {
    "mv_descriptor_search",  # by revision 003's refresh
    "mv_descriptor_search_shared",
    "mv_descriptor_search_forms",
}
IN_PLACE_FILLFACTOR = 80


def create_search_table(name: str) -> str:
    """CREATE TABLE ... AS its whole build (empty for the tables filled later)."""
    data = "WITH NO DATA" if name in FILLED_LATER else "WITH DATA"
    storage = f" WITH (fillfactor = {IN_PLACE_FILLFACTOR})" if name in UPDATED_IN_PLACE else ""
    return f"""
CREATE TABLE IF NOT EXISTS public.{name}{storage} AS {SEARCH_TABLES[name][0]} {data};
COMMENT ON TABLE public.{name} IS
    '{COMMENTS[name]}; kept up to date by refresh_descriptor_views() (revision 003).';
REVOKE ALL ON public.{name} FROM PUBLIC;
-- Enabling it again is harmless, so a re-run is safe.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;
"""


# Filled only while empty, so a re-run does not add rows twice.
FILL_IF_EMPTY = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM public.{name}) THEN
        INSERT INTO public.{name} {body};
    END IF;
END;
$$;
"""


def _refresh_steps(incremental: bool) -> str:
    steps = []
    for name, (whole, changed) in SEARCH_TABLES.items():
        if name in DIFF_TABLES:
            step = diff_step(name, incremental)
            if incremental and name == "mv_descriptor_search":
                # The caller may have brought it up to date itself.
                step = f"""
IF NOT p_search_done THEN{textwrap.indent(step, "    ")}
END IF;"""
            steps.append(step)
        elif not incremental:
            steps.append(f"""
DELETE FROM public.{name};
INSERT INTO public.{name}
{whole.strip()};""")
        elif name == "mv_descriptor_search_prefixes":
            steps.append(changed)
        elif name == "mv_descriptor_search_pairs":
            steps.append(PAIRS_INCREMENTAL)
        elif name == "mv_descriptor_search_pair_users":
            steps.append(PAIR_USERS_INCREMENTAL)
        else:
            step = f"""
DELETE FROM public.{name} WHERE {INCREMENTAL_DELETE[name]};
INSERT INTO public.{name}
{changed.strip()};"""
            if name == "mv_descriptor_search_user_pairs":
                step += USER_PAIRS_INCREMENTAL
            steps.append(step)
    return "".join(steps).replace("\n", "\n        ")


# The tables with a trigram index are written only where a row differs, in a
# full rebuild too: an insert into a trigram index costs tens of
# microseconds, an update that leaves the indexed columns alone can skip the
# indexes (HOT), and a trigram index grown row by row was measured at three to
# four times the scan time of one built whole (on ten million rows). A
# group's key columns are matched with NULLs equal, as the unique key does.
# table -> (key columns, the nullable ones among them, value columns).
DIFF_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "mv_descriptor_search": (
        ("normalized_form", "descriptor_type", "category", "subcategory"),
        ("category", "subcategory"),
        ("descriptor_text", "usage_count", "sample_id", "unique_users"),
    ),
    "mv_descriptor_search_shared": (
        ("normalized_form", "descriptor_type", "category", "subcategory"),
        ("category", "subcategory"),
        ("descriptor_text", "usage_count", "unique_users"),
    ),
    "mv_descriptor_search_forms": (
        ("normalized_form",),
        (),
        (
            "usage_count",
            "sample_id",
            "descriptor_text",
            "descriptor_type",
            "category",
            "subcategory",
            "trigram_count",
        ),
    ),
}


def diff_step(name: str, incremental: bool) -> str:
    """One statement bringing a table to its fresh rows: the whole table, or the changed forms.

    The fresh rows are computed once, and the update, delete and insert all see
    the table as it was before the statement.
    """
    key, nullable, values = DIFF_TABLES[name]
    whole, changed = SEARCH_TABLES[name]
    fresh = textwrap.indent((changed if incremental else whole).strip(), " " * 4).strip()

    def match(indent: int) -> str:
        return f"\n{' ' * indent}AND ".join(
            f"x.{c} IS NOT DISTINCT FROM n.{c}" if c in nullable else f"x.{c} = n.{c}" for c in key
        )

    scope = f"x.normalized_form {CHANGED_FORMS}\n      AND " if incremental else ""
    xs = ", ".join(f"x.{c}" for c in values)
    ns = ", ".join(f"n.{c}" for c in values)
    sets = ",\n        ".join(f"{c} = n.{c}" for c in values)
    # Keys are found by the tables' btree keys: pg_trgm's GIN operator class
    # serves `=` too, and the planner, misjudging its cost, probed the shared
    # vocabulary's trigram index once per changed row for the update (0.7 ms
    # each, 7.5 s of one refresh at ten million rows). A GIN index is only
    # ever read by a bitmap scan. Not for mv_descriptor_search's changed forms:
    # flavor_descriptors has no btree that leads with the form.
    btree_only = not (incremental and name == "mv_descriptor_search")
    off, back = (
        (
            "\nPERFORM pg_catalog.set_config('enable_bitmapscan', 'off', true);",
            "\nPERFORM pg_catalog.set_config('enable_bitmapscan', v_bitmapscan, true);",
        )
        if btree_only
        else ("", "")
    )
    return f"""{off}
WITH fresh AS MATERIALIZED (
    {fresh}
), updated AS (
    UPDATE public.{name} x
    SET {sets}
    FROM fresh n
    WHERE {match(6)}
      AND ({xs})
          IS DISTINCT FROM ({ns})
), deleted AS (
    DELETE FROM public.{name} x
    WHERE {scope}NOT EXISTS (SELECT FROM fresh n
                      WHERE {match(24)})
)
INSERT INTO public.{name}
SELECT n.* FROM fresh n
WHERE NOT EXISTS (SELECT FROM public.{name} x
                  WHERE {match(20)});{back}"""


# Whether a changed user is heavy is decided by at most HEAVY_USER_ROWS index
# entries, not by counting all the user's rows; only users who cross the
# line are written. v_stayed: heavy before the refresh and still; v_left and
# v_entered: heavy only before, only now. Only v_left have pairs to delete and
# v_entered pairs to build whole: both are usually empty, and a filter on
# them reads the user pairs by their key (one on the changed users less those
# who stayed was read as a scan of the whole table).
PAIR_USERS_INCREMENTAL = f"""
SELECT pg_catalog.array_agg(u.u) INTO v_heavy_now
FROM pg_catalog.unnest(p_users) AS u (u)
WHERE (SELECT pg_catalog.count(*)
       FROM (SELECT FROM public.flavor_descriptors d WHERE d.user_id = u.u
             LIMIT {HEAVY_USER_ROWS}) r) >= {HEAVY_USER_ROWS};
v_heavy_now := coalesce(v_heavy_now, '{{}}');
DELETE FROM public.mv_descriptor_search_pair_users
WHERE user_id = ANY (p_users) AND user_id <> ALL (v_heavy_now);
INSERT INTO public.mv_descriptor_search_pair_users (user_id)
SELECT h.h FROM pg_catalog.unnest(v_heavy_now) AS h (h)
WHERE NOT EXISTS (SELECT FROM public.mv_descriptor_search_pair_users x WHERE x.user_id = h.h);
SELECT pg_catalog.array_agg(u.u) INTO v_stayed
FROM pg_catalog.unnest(v_heavy_now) AS u (u)
WHERE u.u = ANY (v_heavy_before);
v_stayed := coalesce(v_stayed, '{{}}');
SELECT pg_catalog.array_agg(u.u) INTO v_left
FROM pg_catalog.unnest(v_heavy_before) AS u (u)
WHERE u.u <> ALL (v_stayed);
SELECT pg_catalog.array_agg(u.u) INTO v_entered
FROM pg_catalog.unnest(v_heavy_now) AS u (u)
WHERE u.u <> ALL (v_stayed);"""

# Pairs change only when a form appears or disappears: the pairs of those
# forms are deleted, and those of the forms that appeared are looked up, each
# against every form (the lookup finds both sides; DISTINCT keeps one copy of
# a pair of two new forms: similarity is symmetric, so both lookups agree).
PAIRS_INCREMENTAL = """
SELECT pg_catalog.array_agg(f.f) INTO v_flipped
FROM pg_catalog.unnest(p_forms) AS f (f)
WHERE (f.f IN (SELECT pg_catalog.unnest(v_existed))) <>
      EXISTS (SELECT FROM public.mv_descriptor_search_forms x WHERE x.normalized_form = f.f);
IF v_flipped IS NOT NULL THEN
    DELETE FROM public.mv_descriptor_search_pairs
    WHERE form_a IN (SELECT pg_catalog.unnest(v_flipped))
       OR form_b IN (SELECT pg_catalog.unnest(v_flipped));
    INSERT INTO public.mv_descriptor_search_pairs (form_a, form_b, similarity)
    SELECT DISTINCT LEAST(n.f, g.normalized_form), GREATEST(n.f, g.normalized_form),
           g.similarity
    FROM pg_catalog.unnest(v_flipped) AS n (f)
    CROSS JOIN LATERAL public.flavatix_forms_similar_to(n.f) g
    WHERE EXISTS (SELECT FROM public.mv_descriptor_search_forms x WHERE x.normalized_form = n.f);
END IF;"""

# Users who were heavy before and still are (v_stayed) get only the pairs of
# their changed keys recomputed; the others among the changed users were
# rebuilt whole or removed just before.
USER_PAIRS_INCREMENTAL = f"""
DELETE FROM public.mv_descriptor_search_user_pairs x
USING (SELECT DISTINCT k.u, k.f, k.t
       FROM unnest(p_key_users, p_key_forms, p_key_types) AS k (u, f, t)
       WHERE k.u = ANY (v_stayed)) k
WHERE x.user_id = k.u AND x.descriptor_type = k.t AND (x.form_a = k.f OR x.form_b = k.f);
INSERT INTO public.mv_descriptor_search_user_pairs
{USER_PAIRS_BY_KEY.strip()};"""

# The upkeep of the search tables, called by refresh_descriptor_views()
# (revision 003) with the users and normalized forms whose rows changed and
# the changed (user, form, type) keys (p_key_*: parallel arrays), or p_full
# for a whole rebuild. p_search_done says the caller already brought
# mv_descriptor_search up to date for p_forms; the others are derived from it.
# Each table is recomputed for the changed forms (prefixes, user pairs: see
# their steps). Runs as its caller; only the owner may call it.
REFRESH_SEARCH = f"""
CREATE OR REPLACE FUNCTION public.flavatix_refresh_search(
    p_users uuid[], p_forms text[], p_full boolean,
    p_key_users uuid[], p_key_forms text[], p_key_types text[], p_search_done boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
SET pg_trgm.similarity_threshold = {PAIR_FLOOR}
-- Row estimates of the changed arrays are guesses; compiling a plan costed
-- from them took longer than running it.
SET jit = off
AS $$
DECLARE
    v_prefixes text[];
    v_prefix_rows public.mv_descriptor_search_prefixes[];
    v_trim_prefixes text[];
    v_trim_ranks bigint[];
    v_reranked text[];
    v_existed text[];
    v_flipped text[];
    v_heavy_before uuid[];
    v_heavy_now uuid[];
    v_stayed uuid[];
    v_left uuid[];
    v_entered uuid[];
    v_bitmapscan constant text := pg_catalog.current_setting('enable_bitmapscan');
BEGIN
    IF p_full IS NULL OR p_search_done IS NULL THEN
        RAISE EXCEPTION 'flavatix_refresh_search: p_full and p_search_done must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- A full rebuild rebuilds every table, whatever p_search_done says.
    IF p_full THEN{_refresh_steps(incremental=False)}
        RETURN;
    END IF;
    IF p_key_users IS NULL OR p_key_forms IS NULL OR p_key_types IS NULL THEN
        RAISE EXCEPTION 'flavatix_refresh_search: p_key_users, p_key_forms and p_key_types '
                        'must not be NULL unless p_full' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.cardinality(p_key_users) <> pg_catalog.cardinality(p_key_forms)
       OR pg_catalog.cardinality(p_key_users) <> pg_catalog.cardinality(p_key_types) THEN
        RAISE EXCEPTION 'flavatix_refresh_search: p_key_users, p_key_forms and p_key_types '
                        'must have the same length, not %, % and %',
                        pg_catalog.cardinality(p_key_users), pg_catalog.cardinality(p_key_forms),
                        pg_catalog.cardinality(p_key_types)
            USING ERRCODE = '22023';
    END IF;
    SELECT pg_catalog.array_agg(DISTINCT pg_catalog.left(f.f, l.len)) INTO v_prefixes
    FROM pg_catalog.unnest(p_forms) AS f (f)
    CROSS JOIN pg_catalog.generate_series(1, {PREFIX_CHARS}) AS l (len)
    WHERE pg_catalog.length(f.f) >= l.len;
    SELECT pg_catalog.array_agg(f.normalized_form) INTO v_existed
    FROM public.mv_descriptor_search_forms f WHERE f.normalized_form {CHANGED_FORMS};
    SELECT pg_catalog.array_agg(u.user_id) INTO v_heavy_before
    FROM public.mv_descriptor_search_pair_users u WHERE u.user_id = ANY (p_users);{
    _refresh_steps(incremental=True)
}
END;
$$;

REVOKE ALL ON FUNCTION public.flavatix_refresh_search(
    uuid[], text[], boolean, uuid[], text[], text[], boolean) FROM PUBLIC;
"""

SEARCH_TABLE_NAMES = tuple(SEARCH_TABLES)

# The search tables and the helpers that build them are closed to PUBLIC and
# to Supabase's API roles.
REVOKE_DERIVED = f"""
DO $$
DECLARE
    views constant text[] := ARRAY{list(SEARCH_TABLE_NAMES)};
    r text;
    v text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r);
        FOREACH v IN ARRAY views LOOP
            EXECUTE format('REVOKE ALL ON public.%I FROM %I', v, r);
        END LOOP;
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavatix_forms_similar_to(text) FROM %I',
                       r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavatix_refresh_search(uuid[], text[], '
                       'boolean, uuid[], text[], text[], boolean) FROM %I', r);
    END LOOP;
END;
$$;
"""

# The search functions run as their caller. On Supabase the shared vocabulary
# (groups at least SHARED_MIN_USERS users wrote, no user or row ids) is
# readable by anon and authenticated; the per-user pair tables by
# authenticated, each user only their own rows (row level security); the other
# search tables (every form anyone wrote, with a row id) and the table helpers
# not at all.
API_ACCESS = """
DO $$
DECLARE
    t text;
BEGIN
    -- Supabase only (auth.uid() exists): roles are cluster-wide, so their
    -- existence alone says nothing about this database.
    IF pg_catalog.to_regprocedure('auth.uid()') IS NULL
       OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon')
       OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['mv_descriptor_search_shared'] LOOP
        EXECUTE format('GRANT SELECT ON public.%I TO anon, authenticated', t);
        EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t || '_read', t);
        EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO anon, authenticated '
                       'USING (true)', t || '_read', t);
    END LOOP;
    IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY[
        'mv_descriptor_search_pair_users',
        'mv_descriptor_search_user_pairs'
    ] LOOP
        -- anon too: no policy lets it see a row, and functions that read
        -- aggregates in the same statement (wheels) still run for it.
        EXECUTE format('GRANT SELECT ON public.%I TO anon, authenticated', t);
        EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t || '_read_own', t);
        EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO authenticated '
                       'USING (user_id = (SELECT auth.uid()))', t || '_read_own', t);
    END LOOP;
END;
$$;
"""

# The answer of find_similar_descriptors from its candidate groups: each form
# once, as its most used group (then type, category, subcategory, NULLs last),
# with the form's use over all its groups.
SIMILAR_RANKED = r"""ranked AS (
    SELECT s.normalized_form, s.descriptor_type, s.category, s.subcategory,
           s.descriptor_text, s.sample_id,
           sum(s.usage_count) OVER (PARTITION BY s.normalized_form) AS form_usage,
           row_number() OVER (PARTITION BY s.normalized_form
                              ORDER BY s.usage_count DESC, s.descriptor_type,
                                       s.category NULLS LAST, s.subcategory NULLS LAST)
               AS rn
    FROM {source} s{where}
)
SELECT r.sample_id, r.descriptor_text, r.descriptor_type, r.category, r.subcategory,
       r.form_usage::bigint, @trgm@.similarity(r.normalized_form, q)::double precision
FROM ranked r
WHERE r.rn = 1
ORDER BY 7 DESC, 6 DESC, r.normalized_form
LIMIT lim;"""
SIMILAR_EVERYONE = SIMILAR_RANKED.replace("{source}", "public.mv_descriptor_search").replace(
    "{where}",
    "\n    WHERE s.normalized_form OPERATOR(@trgm@.%) q\n"
    "      AND (p_descriptor_type IS NULL OR s.descriptor_type = p_descriptor_type)",
)
SIMILAR_MINE = SIMILAR_RANKED.replace("{source}", "scoped").replace("{where}", "")

# The function texts below name pg_trgm's schema as @trgm@; with_pg_trgm()
# substitutes the schema pg_trgm lives in, quoted by format('%I').
# Without a user or type filter, forms come from mv_descriptor_search_forms
# (one row per form, so no per-form ranking at query time).
FIND_SIMILAR = (
    r"""
CREATE OR REPLACE FUNCTION public.find_similar_descriptors(
    p_search_text text,
    p_user_id uuid DEFAULT NULL,
    p_descriptor_type text DEFAULT NULL,
    p_similarity_threshold double precision DEFAULT 0.3,
    p_limit integer DEFAULT 20)
RETURNS TABLE (id uuid, descriptor_text text, descriptor_type text, category text,
               subcategory text, usage_count bigint, similarity double precision)
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = ''
SET pg_trgm.similarity_threshold = 0.3
-- One generic plan per session for each band's read (an index scan):
-- planning it for each call took longer than running it. The filtered paths
-- set it back to auto.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    fn constant text := 'find_similar_descriptors';
    q text := public.flavatix_check_text(fn, 'p_search_text', p_search_text);
    lim integer := public.flavatix_check_limit(fn, 'p_limit', p_limit, 1000);
    uid uuid;
    n integer;
    k integer;
    t double precision;
    shortest integer;
    longest integer;
    above double precision;
    got integer := 0;
    step_rows integer;
    band_lows constant integer[] := '{band_lows}'::integer[];
    band_highs constant integer[] := '{band_highs}'::integer[];
    nearest_first integer[];
    b integer;
    low integer;
    high integer;
    need integer;
    best double precision;
    at_least double precision;
    asked double precision;
    candidates public.mv_descriptor_search_forms[];
BEGIN
    PERFORM public.flavatix_check_descriptor_type(fn, p_descriptor_type);
    PERFORM pg_catalog.set_config('pg_trgm.similarity_threshold',
        public.flavatix_check_threshold(fn, p_similarity_threshold)::text, true);
    uid := public.flavatix_caller_user(p_user_id, fn);

    IF uid IS NULL AND p_descriptor_type IS NULL THEN
        -- Steps of similarity, most similar first: each step returns the forms
        -- with t <= similarity < the previous step's t, in the answer's order,
        -- so the steps together are exactly the answer, and it stops once lim
        -- rows are out. The GIN index hands back the forms sharing at least
        -- ceil(t * n) of the n query trigrams, so t sits just above (k-1)/n:
        -- the loosest step that a k-trigram candidate set can hold. The first
        -- step takes forms sharing half the query's trigrams: measured on ten
        -- million rows, starting higher cost a misspelled word two scans.
        n := pg_catalog.cardinality(@trgm@.show_trgm(q));
        -- A form of m trigrams is at most min(n, m) / max(n, m) similar to
        -- the query: the trigram-count bands are read nearest first, and once
        -- a step holds the rows it needs, a band that cannot beat the last of
        -- them is not read, the ones after it neither (they can hold even
        -- less), and the ones read are asked for at least that similarity.
        -- Long forms that share a common prefix with the query are most of
        -- what a step's index scans hand back and rarely what it returns.
        SELECT pg_catalog.array_agg(i ORDER BY {band_cap} DESC, i)
        INTO nearest_first
        FROM pg_catalog.generate_subscripts(band_lows, 1) AS i;
        k := pg_catalog.ceil(0.5 * n)::integer;
        LOOP
            t := CASE WHEN k <= 1 THEN p_similarity_threshold
                      ELSE greatest(p_similarity_threshold, (k - 1)::double precision / n + 1e-6)
                 END;
            -- The trigram counts a form this similar can have, a little wider
            -- (similarities are reals); the rechecks decide.
            shortest := pg_catalog.floor(t * n)::integer;
            longest := pg_catalog.ceil(least(n / t, 1e9))::integer;
            need := lim - got;
            at_least := t;
            candidates := '{}';
            FOREACH b IN ARRAY nearest_first LOOP
                low := greatest(band_lows[b], shortest);
                high := least(band_highs[b], longest);
                CONTINUE WHEN low > high;
                best := {clipped_cap};
                EXIT WHEN pg_catalog.cardinality(candidates) >= need AND best + 1e-6 < at_least;
                IF at_least IS DISTINCT FROM asked THEN
                    PERFORM pg_catalog.set_config('pg_trgm.similarity_threshold',
                                                  at_least::text, true);
                    asked := at_least;
                END IF;
                -- One statement per band, so each plan uses its band's index.
                CASE b
                    {band_reads}
                END CASE;
                IF pg_catalog.cardinality(candidates) >= need THEN
                    at_least := greatest(t, (
                        SELECT @trgm@.similarity(c.normalized_form, q)::double precision
                        FROM unnest(candidates) AS c
                        ORDER BY 1 DESC OFFSET need - 1 LIMIT 1));
                END IF;
            END LOOP;
            RETURN QUERY
            SELECT c.sample_id, c.descriptor_text, c.descriptor_type, c.category, c.subcategory,
                   c.usage_count, @trgm@.similarity(c.normalized_form, q)::double precision
            FROM unnest(candidates) AS c
            ORDER BY 7 DESC, 6 DESC, c.normalized_form
            LIMIT need;
            GET DIAGNOSTICS step_rows = ROW_COUNT;
            got := got + step_rows;
            EXIT WHEN got >= lim OR t <= p_similarity_threshold;
            above := t;
            -- Long queries take wider steps: two or three scans at most. Their
            -- trigrams are rarer, so a wide step still reads few candidates.
            k := k - greatest(1, n / 4);
        END LOOP;
        RETURN;
    END IF;
    -- The filtered paths are planned for their arguments, as before.
    PERFORM pg_catalog.set_config('plan_cache_mode', 'auto', true);

    IF uid IS NULL THEN
        RETURN QUERY
        WITH {similar_everyone}
        RETURN;
    END IF;

    -- One user's own forms, as they are now: the user's distinct forms (an
    -- index range), compared with the query, each match counted by one probe.
    -- Never the search tables, which the API roles may not read.
    RETURN QUERY
    WITH forms AS MATERIALIZED (
        SELECT DISTINCT d.normalized_form, d.descriptor_type
        FROM public.flavor_descriptors d
        WHERE d.user_id = uid
          AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
    ), scoped AS (
        SELECT f.normalized_form, f.descriptor_type, mine.category, mine.subcategory,
               mine.descriptor_text, mine.n AS usage_count, mine.any_id AS sample_id
        FROM forms f
        CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   mode() WITHIN GROUP (ORDER BY d.category) AS category,
                   mode() WITHIN GROUP (ORDER BY d.subcategory) AS subcategory,
                   mode() WITHIN GROUP (ORDER BY d.descriptor_text) AS descriptor_text,
                   min(d.id::text)::uuid AS any_id
            FROM public.flavor_descriptors d
            WHERE d.user_id = uid AND d.normalized_form = f.normalized_form
              AND d.descriptor_type = f.descriptor_type) mine
        WHERE f.normalized_form OPERATOR(@trgm@.%) q
    ), {similar_mine}
END;
$$;
""".replace("{similar_everyone}", textwrap.indent(SIMILAR_EVERYONE, " " * 8).lstrip())
    .replace("{similar_mine}", textwrap.indent(SIMILAR_MINE, " " * 4).lstrip())
    .replace("{band_lows}", BAND_LOWS)
    .replace("{band_highs}", BAND_HIGHS)
    .replace("{band_cap}", most_similar("band_lows[i]", "band_highs[i]"))
    .replace("{clipped_cap}", most_similar("low", "high"))
    .replace("{band_reads}", textwrap.indent(band_reads(), " " * 20).lstrip())
)

# At or above PAIR_FLOOR, for a user listed in mv_descriptor_search_pair_users:
# one range scan of mv_descriptor_search_user_pairs (its unique index is in the
# answer's order). Otherwise a user's distinct forms (index scan of their rows,
# grouped), compared pairwise within a type; never a join of raw rows. One
# generic plan per session: on the partitioned table (revision 005) planning
# each call cost several times the answer for a user with few rows.
FIND_DUPLICATES = rf"""
CREATE OR REPLACE FUNCTION public.find_duplicate_descriptors(
    p_user_id uuid,
    p_similarity_threshold double precision DEFAULT 0.8,
    p_limit integer DEFAULT 100)
RETURNS TABLE (descriptor1_id uuid, descriptor1_text text, descriptor2_id uuid,
               descriptor2_text text, similarity double precision, descriptor_type text)
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = ''
SET pg_trgm.similarity_threshold = 0.8
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    fn constant text := 'find_duplicate_descriptors';
    lim integer := public.flavatix_check_limit(fn, 'p_limit', p_limit, 1000);
    uid uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    PERFORM pg_catalog.set_config('pg_trgm.similarity_threshold',
        public.flavatix_check_threshold(fn, p_similarity_threshold)::text, true);
    uid := public.flavatix_caller_user(p_user_id, fn);

    -- Precomputed as of the last refresh for users with many rows.
    IF p_similarity_threshold >= {PAIR_FLOOR}
       AND EXISTS (SELECT FROM public.mv_descriptor_search_pair_users u
                   WHERE u.user_id = uid) THEN
        RETURN QUERY
        SELECT p.descriptor1_id, p.descriptor1_text, p.descriptor2_id, p.descriptor2_text,
               p.similarity::double precision, p.descriptor_type
        FROM public.mv_descriptor_search_user_pairs p
        WHERE p.user_id = uid AND p.similarity >= p_similarity_threshold
        ORDER BY p.similarity DESC, p.form_a, p.form_b, p.descriptor_type
        LIMIT lim;
        RETURN;
    END IF;

    RETURN QUERY
    WITH mine AS MATERIALIZED (
        SELECT d.normalized_form, d.descriptor_type,
               mode() WITHIN GROUP (ORDER BY d.descriptor_text) AS descriptor_text,
               min(d.id::text)::uuid AS any_id
        FROM public.flavor_descriptors d
        WHERE d.user_id = uid
        GROUP BY d.normalized_form, d.descriptor_type
    )
    SELECT a.any_id, a.descriptor_text, b.any_id, b.descriptor_text,
           @trgm@.similarity(a.normalized_form, b.normalized_form)::double precision,
           a.descriptor_type
    FROM mine a
    JOIN mine b ON b.descriptor_type = a.descriptor_type
               AND b.normalized_form > a.normalized_form
               AND a.normalized_form OPERATOR(@trgm@.%) b.normalized_form
    ORDER BY 5 DESC, a.normalized_form, b.normalized_form, a.descriptor_type
    LIMIT lim;
END;
$$;
"""

# Prefix matches on the normalized form (LIKE with wildcards escaped, served by
# the text_pattern_ops index), then typo-tolerant word-similarity matches
# (`<%`, served by the trigram index); most used first within each group.
# Without filters, when there are at least p_limit prefix matches the answer
# is the p_limit most used of them: for 1-4 characters read from
# mv_descriptor_search_prefixes (which holds the top 100, the cap on p_limit),
# for longer prefixes (selective) from the prefix index. Otherwise, or with
# filters, the full query below.
# The answer of autocomplete_descriptors from its (form, type) groups: prefix
# matches first, most used first within each.
COMPLETIONS = r"""SELECT s.descriptor_text, s.descriptor_type, s.category, s.n,
       CASE WHEN s.normalized_form LIKE pattern THEN 'prefix' ELSE 'similar' END
FROM {source} s
ORDER BY (s.normalized_form LIKE pattern) DESC, s.n DESC, s.normalized_form, s.descriptor_type
LIMIT lim;"""

AUTOCOMPLETE = r"""
CREATE OR REPLACE FUNCTION public.autocomplete_descriptors(
    p_prefix text,
    p_user_id uuid DEFAULT NULL,
    p_descriptor_type text DEFAULT NULL,
    p_category text DEFAULT NULL,
    p_limit integer DEFAULT 10)
RETURNS TABLE (descriptor_text text, descriptor_type text, category text,
               usage_count bigint, match_type text)
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = ''
SET pg_trgm.word_similarity_threshold = 0.5
AS $$
DECLARE
    fn constant text := 'autocomplete_descriptors';
    q text := public.flavatix_check_text(fn, 'p_prefix', p_prefix);
    lim integer := public.flavatix_check_limit(fn, 'p_limit', p_limit, 100);
    pattern text;
    cat text;
    uid uuid;
BEGIN
    PERFORM public.flavatix_check_descriptor_type(fn, p_descriptor_type);
    IF p_category IS NOT NULL THEN
        cat := public.flavatix_check_text(fn, 'p_category', p_category);
    END IF;
    uid := public.flavatix_caller_user(p_user_id, fn);
    pattern := replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%';

    -- Unfiltered: when prefix matches alone fill the limit, they are the answer.
    IF uid IS NULL AND p_descriptor_type IS NULL AND cat IS NULL THEN
        IF pg_catalog.length(q) <= 4 THEN
            IF (SELECT pg_catalog.count(*) FROM public.mv_descriptor_search_prefixes p
                WHERE p.prefix = q AND p.rank <= lim) = lim THEN
                RETURN QUERY
                SELECT p.descriptor_text, p.descriptor_type, p.category, p.usage_count,
                       'prefix'::text
                FROM public.mv_descriptor_search_prefixes p
                WHERE p.prefix = q AND p.rank <= lim
                ORDER BY p.rank;
                RETURN;
            END IF;
        ELSIF (SELECT pg_catalog.count(*)
               FROM (SELECT DISTINCT s.normalized_form, s.descriptor_type
                     FROM public.mv_descriptor_search s
                     WHERE s.normalized_form LIKE pattern) m) >= lim THEN
            RETURN QUERY
            SELECT (pg_catalog.array_agg(s.descriptor_text
                                         ORDER BY s.usage_count DESC, s.descriptor_text))[1],
                   s.descriptor_type,
                   (pg_catalog.array_agg(s.category ORDER BY s.usage_count DESC, s.category)
                        FILTER (WHERE s.category IS NOT NULL))[1],
                   pg_catalog.sum(s.usage_count)::bigint,
                   'prefix'::text
            FROM public.mv_descriptor_search s
            WHERE s.normalized_form LIKE pattern
            GROUP BY s.normalized_form, s.descriptor_type
            ORDER BY 4 DESC, s.normalized_form, s.descriptor_type
            LIMIT lim;
            RETURN;
        END IF;
    END IF;

    IF uid IS NULL THEN
        RETURN QUERY
        WITH candidates AS (
            SELECT s.normalized_form, s.descriptor_type, s.category, s.descriptor_text,
                   s.usage_count
            FROM public.mv_descriptor_search s
            WHERE (s.normalized_form LIKE pattern OR q OPERATOR(@trgm@.<%) s.normalized_form)
              AND (p_descriptor_type IS NULL OR s.descriptor_type = p_descriptor_type)
              AND (cat IS NULL OR public.normalize_descriptor_text(s.category) = cat)
        ), forms AS (
            SELECT c.normalized_form, c.descriptor_type,
                   sum(c.usage_count)::bigint AS n,
                   (array_agg(c.descriptor_text ORDER BY c.usage_count DESC,
                                                          c.descriptor_text))[1]
                       AS descriptor_text,
                   (array_agg(c.category ORDER BY c.usage_count DESC, c.category)
                        FILTER (WHERE c.category IS NOT NULL))[1] AS category
            FROM candidates c
            GROUP BY c.normalized_form, c.descriptor_type
        )
        {completions_everyone}
        RETURN;
    END IF;

    -- One user's own forms, as they are now (see find_similar_descriptors).
    RETURN QUERY
    WITH forms AS MATERIALIZED (
        SELECT DISTINCT d.normalized_form, d.descriptor_type
        FROM public.flavor_descriptors d
        WHERE d.user_id = uid
          AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
    ), scoped AS (
        SELECT f.normalized_form, f.descriptor_type, mine.descriptor_text, mine.category,
               mine.n
        FROM forms f
        CROSS JOIN LATERAL (
            SELECT count(*) AS n,
                   mode() WITHIN GROUP (ORDER BY d.descriptor_text) AS descriptor_text,
                   mode() WITHIN GROUP (ORDER BY d.category) AS category
            FROM public.flavor_descriptors d
            WHERE d.user_id = uid AND d.normalized_form = f.normalized_form
              AND d.descriptor_type = f.descriptor_type
              AND (cat IS NULL OR public.normalize_descriptor_text(d.category) = cat)) mine
        WHERE (f.normalized_form LIKE pattern OR q OPERATOR(@trgm@.<%) f.normalized_form)
          AND mine.n > 0
    )
    {completions_mine}
END;
$$;
""".replace(
    "{completions_everyone}",
    textwrap.indent(COMPLETIONS.replace("{source}", "forms"), " " * 8).lstrip(),
).replace(
    "{completions_mine}",
    textwrap.indent(COMPLETIONS.replace("{source}", "scoped"), " " * 4).lstrip(),
)

# Category suggestions are aggregates over all users (category names and
# counts, no rows), like universal wheels: over every group for the owner and
# callers row level security does not bind, over the shared vocabulary for the
# others. Confidence: the category's share of similarity-weighted usage among
# the similar forms that have a category.
# One statement per source: a role is checked for every table a statement
# names, even in a branch it would not run.
SUGGEST_QUERY = r"""
        RETURN QUERY
        WITH matches AS (
            SELECT s.category, s.subcategory, s.usage_count,
                   @trgm@.similarity(s.normalized_form, q) * s.usage_count AS weight
            FROM public.{source} s
            WHERE s.normalized_form OPERATOR(@trgm@.%) q AND s.category IS NOT NULL
        ), grouped AS (
            SELECT m.category, m.subcategory, sum(m.usage_count)::bigint AS n,
                   sum(m.weight) AS weight
            FROM matches m
            GROUP BY m.category, m.subcategory
        )
        SELECT g.category, g.subcategory,
               (g.weight / sum(g.weight) OVER ())::double precision, g.n
        FROM grouped g
        ORDER BY 3 DESC, 4 DESC, 1, 2 NULLS LAST
        LIMIT 5;"""

SUGGEST_CATEGORY = rf"""
CREATE OR REPLACE FUNCTION public.suggest_descriptor_category(
    p_descriptor_text text,
    p_similarity_threshold double precision DEFAULT 0.5)
RETURNS TABLE (suggested_category text, suggested_subcategory text,
               confidence double precision, based_on_count bigint)
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = ''
SET pg_trgm.similarity_threshold = 0.5
AS $$
DECLARE
    fn constant text := 'suggest_descriptor_category';
    q text := public.flavatix_check_text(fn, 'p_descriptor_text', p_descriptor_text);
BEGIN
    PERFORM pg_catalog.set_config('pg_trgm.similarity_threshold',
        public.flavatix_check_threshold(fn, p_similarity_threshold)::text, true);
    -- A user id comes back only for a caller bound by row level security.
    IF public.flavatix_caller_user(NULL, fn) IS NULL THEN{
    SUGGEST_QUERY.replace("{source}", "mv_descriptor_search")
}
    ELSE{SUGGEST_QUERY.replace("{source}", "mv_descriptor_search_shared")}
    END IF;
END;
$$;
"""

# FIND_DUPLICATES is created apart, once the views it reads hold data (see upgrade()).
SEARCH_FUNCTIONS = (FIND_SIMILAR, AUTOCOMPLETE, SUGGEST_CATEGORY)

# name -> (table, definition). Opclasses are found through the search_path
# set around the builds (pg_trgm's schema is not known when rendering --sql).
TABLE_INDEXES: dict[str, tuple[str, str]] = {
    "ix_flavor_descriptors_text_trgm": (
        "flavor_descriptors",
        "USING gin (descriptor_text gin_trgm_ops)",
    ),
    "ix_flavor_descriptors_normalized_trgm": (
        "flavor_descriptors",
        "USING gin (normalized_form gin_trgm_ops)",
    ),
    "ix_flavor_descriptors_category_trgm": (
        "flavor_descriptors",
        "USING gin (category gin_trgm_ops)",
    ),
    "ix_flavor_descriptors_subcategory_trgm": (
        "flavor_descriptors",
        "USING gin (subcategory gin_trgm_ops)",
    ),
    "ix_flavor_descriptors_search_vector": (
        "flavor_descriptors",
        "USING gin (public.descriptor_search_vector(descriptor_text, category, subcategory))",
    ),
}
# The unique key (NULL categories included), and the trigram and prefix indexes
# the search functions read through. The trigram indexes of the search tables
# take the refresh's rows straight into the index (fastupdate off): a pending
# list would be read whole by every lookup, and the pair build makes one
# lookup per form right after rewriting the forms.
VIEW_INDEXES: dict[str, tuple[str, str]] = {
    "ux_mv_descriptor_search_key": (
        "mv_descriptor_search",
        "(normalized_form, descriptor_type, category, subcategory) NULLS NOT DISTINCT",
    ),
    "ix_mv_descriptor_search_trgm": (
        "mv_descriptor_search",
        "USING gin (normalized_form gin_trgm_ops) WITH (fastupdate = off)",
    ),
    "ix_mv_descriptor_search_prefix": (
        "mv_descriptor_search",
        "(normalized_form text_pattern_ops, descriptor_type)",
    ),
}
# The derived tables' keys; the forms' trigram bands build the pairs.
DERIVED_VIEW_INDEXES: dict[str, tuple[str, str]] = {
    "ux_mv_descriptor_search_shared_key": (
        "mv_descriptor_search_shared",
        "(normalized_form, descriptor_type, category, subcategory) NULLS NOT DISTINCT",
    ),
    "ix_mv_descriptor_search_shared_trgm": (
        "mv_descriptor_search_shared",
        "USING gin (normalized_form gin_trgm_ops) WITH (fastupdate = off)",
    ),
    "ux_mv_descriptor_search_forms_key": ("mv_descriptor_search_forms", "(normalized_form)"),
    "ux_mv_descriptor_search_prefixes_key": ("mv_descriptor_search_prefixes", "(prefix, rank)"),
    **BAND_INDEXES,
}
# The user pairs' key is in the order find_duplicate_descriptors returns them,
# so one user's answer is one range scan.
PAIR_VIEW_INDEXES: dict[str, tuple[str, str]] = {
    "ux_mv_descriptor_search_pairs_key": ("mv_descriptor_search_pairs", "(form_a, form_b)"),
    "ux_mv_descriptor_search_pair_users_key": ("mv_descriptor_search_pair_users", "(user_id)"),
    "ux_mv_descriptor_search_user_pairs_key": (
        "mv_descriptor_search_user_pairs",
        "(user_id, similarity DESC, form_a, form_b, descriptor_type)",
    ),
}
UNIQUE_INDEXES = {
    "ux_mv_descriptor_search_key",
    "ux_mv_descriptor_search_shared_key",
    "ux_mv_descriptor_search_forms_key",
    "ux_mv_descriptor_search_prefixes_key",
    *PAIR_VIEW_INDEXES,
}

TRGM_SEARCH_PATH = "SET search_path = public, extensions"

DROP_OBJECTS = """
-- Each object dropped here is this revision's own; callers of the parent
-- revision never had it.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.find_similar_descriptors(text, uuid, text, double precision,
                                                       integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.find_duplicate_descriptors(uuid, double precision, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.autocomplete_descriptors(text, uuid, text, text, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.suggest_descriptor_category(text, double precision);
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_user_pairs;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_pair_users;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_pairs;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_refresh_search(uuid[], text[], boolean, uuid[], text[],
                                                      text[], boolean);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_forms_similar_to(text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_check_threshold(text, double precision);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_check_limit(text, text, integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_check_descriptor_type(text, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_check_text(text, text, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_caller_user(uuid, text);
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_prefixes;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_forms;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search_shared;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_descriptor_search;
"""

DROP_EXTENSIONS_IF_OURS = """
DO $$
DECLARE
    ext text;
BEGIN
    FOREACH ext IN ARRAY ARRAY['pg_trgm', 'unaccent'] LOOP
        IF obj_description((SELECT oid FROM pg_extension WHERE extname = ext), 'pg_extension')
                LIKE '%flavatix-db revision 002%' THEN
            BEGIN
                EXECUTE format('DROP EXTENSION %I', ext);
            EXCEPTION WHEN dependent_objects_still_exist THEN
                RAISE NOTICE 'keeping extension %: other objects use it', ext;
            END;
        END IF;
    END LOOP;
END;
$$;
"""


def with_pg_trgm(create_function: str) -> str:
    """Wrap a CREATE FUNCTION text so that @trgm@ names pg_trgm's schema, found at run time."""
    return f"""
DO $do$
DECLARE
    trgm text := (SELECT format('%I', n.nspname) FROM pg_extension e
                  JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
BEGIN
    EXECUTE replace($fn${create_function}$fn$, '@trgm@', trgm);
END;
$do$;
"""


def execute_without_timeout(sql: str) -> None:
    """Run a long but non-blocking statement (index build, view population)."""
    op.execute("SET statement_timeout = 0")
    op.execute(sql)
    op.execute("RESET statement_timeout")


def index_is_valid(name: str) -> bool:
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %(name)s AND c.relnamespace = 'public'::regnamespace",
            {"name": name},
        )
        .first()
    )
    return bool(row and row[0])


def create_index_concurrently(name: str, table: str, definition: str, unique: bool) -> None:
    """Build one index without blocking writers; a leftover INVALID copy is dropped first."""
    if not op.get_context().as_sql and index_is_valid(name):
        return
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}")
    kind = "UNIQUE INDEX" if unique else "INDEX"
    execute_without_timeout(
        f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {name} ON public.{table} {definition}"
    )


def upgrade() -> None:
    """Add pg_trgm, the search tables, trigram and full-text indexes and search functions."""
    ctx = op.get_context()
    op.execute(CREATE_EXTENSIONS)
    op.execute(CREATE_HELPERS)
    op.execute(CREATE_SEARCH_VECTOR)
    for name in SEARCH_TABLE_NAMES:
        # Reads the table with an ordinary snapshot: writers are not blocked.
        execute_without_timeout(with_pg_trgm(create_search_table(name)))
        if name == "mv_descriptor_search_forms":
            op.execute(with_pg_trgm(SIMILAR_FORMS_FUNCTION))
    op.execute(with_pg_trgm(REFRESH_SEARCH))
    op.execute(REVOKE_DERIVED)
    op.execute(API_ACCESS)
    for create_function in SEARCH_FUNCTIONS:
        op.execute(with_pg_trgm(create_function))
    with ctx.autocommit_block():
        op.execute(TRGM_SEARCH_PATH)
        indexes = {**VIEW_INDEXES, **DERIVED_VIEW_INDEXES, **TABLE_INDEXES}
        for name, (table, definition) in indexes.items():
            create_index_concurrently(name, table, definition, unique=name in UNIQUE_INDEXES)
        op.execute("RESET search_path")
        for name in FILLED_LATER:
            execute_without_timeout(
                FILL_IF_EMPTY.format(name=name, body=SEARCH_TABLES[name][0].strip())
            )
        for name, (table, definition) in PAIR_VIEW_INDEXES.items():
            create_index_concurrently(name, table, definition, unique=True)
        op.execute(with_pg_trgm(FIND_DUPLICATES))
        for name in SEARCH_TABLE_NAMES:
            execute_without_timeout(f"ANALYZE public.{name}")


def downgrade() -> None:
    """Drop the search functions, view and indexes; pg_trgm only if this revision made it."""
    ctx = op.get_context()
    op.execute(DROP_OBJECTS)
    with ctx.autocommit_block():
        for name in TABLE_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}")
    # Dropped only once the index built on it is gone; it is this revision's own.
    op.execute(
        "-- squawk-ignore ban-drop-function\n"
        "DROP FUNCTION IF EXISTS public.descriptor_search_vector(text, text, text)"
    )
    op.execute(DROP_EXTENSIONS_IF_OURS)
