"""Summaries: per-user, global and per-item-category, wheel generation; incremental refresh.

Revision ID: 003
Revises: 002
Create Date: 2026-11-29

The plan's four "materialized views" and the per-subcategory wheel summary
are tables under their planned names (mv_...), with the columns and unique
keys (NULLS NOT DISTINCT: a NULL category is a key too) the views had, kept up
to date by refresh_descriptor_views(). A materialized view can only be
recomputed whole; a table lets the refresh recompute only what changed.

Change tracking: row triggers append to mv_refresh_changes every row version
a write removed or added (the columns the summaries read), so an update is
its old version taken away and its new one added. Appending instead of
updating shared counters keeps concurrent writers from waiting on each other.
mv_refresh_status is a view over it and mv_refresh_log. The change rows and
the counts below are unlogged: a crash empties them, and the next refresh
then rebuilds everything (see COUNTS_LOST).

refresh_descriptor_views() takes off the change rows it can see and adds
them to counts it keeps (the mv_refresh_* tables: per group, its totals, how
many of its rows have each intensity, and how often each spelling, item name
and user occurs in it), then
writes the changed groups of the aggregates over all users from those counts:
a mode or median from a group's few counts, a distinct count moved by the
values that reached or left zero, a newest time or smallest id read again
only when a change removed it. Per-user rows are recomputed from the table by
changed (user, form, type), each one index probe, and the wheel rows by
changed subcategory. So a refresh costs what changed, not what the changed
forms hold (a popular form has rows from most users). Revision 002's search
table mv_descriptor_search is written from the global statistics the same
way, and its derived tables by flavatix_refresh_search().
refresh_descriptor_views(true) rebuilds everything from the table (repair),
taking the changes and building the counts in one statement, under one
snapshot.

Wheels: a personal wheel of a heavy user is assembled from
mv_user_wheel_subcategories (one row per user, wheel type and subcategory,
built on mv_user_descriptor_summary and refreshed after it); every other wheel,
and every call the table cannot answer, is built from the per-form summaries
as before. Both give the same JSON.

Access: the summary tables have row level security on. On Supabase the
aggregates over all users are readable by anon and authenticated for the
groups at least SHARED_MIN_USERS users wrote (fewer may be one user's private
note), mv_refresh_log whole, the per-user summaries by each user for their own
rows (user_id = (select auth.uid())). generate_wheel_data_optimized() and the wheel
builders run as their caller, so those policies apply, and it asks
flavatix_caller_user() (revision 002) which user it may answer for: a caller
bound by row level security only gets auth.uid()'s wheel. SECURITY DEFINER is
left on the change-tracking trigger function, refresh_descriptor_views() and
should_refresh_views() (see API_ACCESS for why), none executable by anon or
authenticated.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs.
import textwrap
from collections.abc import Sequence

from alembic import op

revision: str = "003"
down_revision: str | Sequence[str] | None = "002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# intensity_sum / intensity_count let callers merge groups and still get a
# correctly weighted average intensity.
VIEWS: dict[str, str] = {
    "mv_user_descriptor_summary": """
SELECT user_id, descriptor_type, category, subcategory, normalized_form,
       mode() WITHIN GROUP (ORDER BY descriptor_text) AS descriptor_text,
       count(*) AS occurrence_count,
       round(avg(intensity), 2) AS avg_intensity,
       round(avg(confidence_score), 3) AS avg_confidence,
       sum(intensity) AS intensity_sum,
       count(intensity) AS intensity_count,
       count(DISTINCT source_id) AS source_count,
       count(DISTINCT item_name) AS item_count,
       array_agg(DISTINCT item_category ORDER BY item_category)
           FILTER (WHERE item_category IS NOT NULL) AS item_categories,
       min(created_at) AS first_used_at,
       max(created_at) AS last_used_at,
       bool_or(ai_extracted) AS any_ai_extracted
FROM public.flavor_descriptors
GROUP BY user_id, descriptor_type, category, subcategory, normalized_form
""",
    "mv_global_descriptor_stats": """
SELECT descriptor_type, category, subcategory, normalized_form,
       mode() WITHIN GROUP (ORDER BY descriptor_text) AS descriptor_text,
       count(*) AS total_occurrences,
       count(DISTINCT user_id) AS unique_users,
       round(avg(intensity), 2) AS avg_intensity,
       round(avg(confidence_score), 3) AS avg_confidence,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY intensity) AS median_intensity,
       sum(intensity) AS intensity_sum,
       count(intensity) AS intensity_count,
       count(DISTINCT item_category) AS category_breadth,
       max(created_at) AS last_used_at
FROM public.flavor_descriptors
GROUP BY descriptor_type, category, subcategory, normalized_form
""",
    "mv_category_descriptor_summary": """
SELECT item_category, descriptor_type, category, subcategory, normalized_form,
       mode() WITHIN GROUP (ORDER BY descriptor_text) AS descriptor_text,
       count(*) AS total_occurrences,
       count(DISTINCT user_id) AS unique_users,
       round(avg(intensity), 2) AS avg_intensity,
       round(avg(confidence_score), 3) AS avg_confidence,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY intensity) AS median_intensity,
       sum(intensity) AS intensity_sum,
       count(intensity) AS intensity_count,
       count(DISTINCT item_name) AS item_count,
       max(created_at) AS last_used_at
FROM public.flavor_descriptors
GROUP BY item_category, descriptor_type, category, subcategory, normalized_form
""",
    "mv_wheel_generation_stats": """
SELECT user_id,
       count(*) AS total_descriptors,
       count(DISTINCT (normalized_form, descriptor_type)) AS unique_descriptors,
       count(*) FILTER (WHERE descriptor_type = 'aroma') AS aroma_count,
       count(*) FILTER (WHERE descriptor_type = 'flavor') AS flavor_count,
       count(*) FILTER (WHERE descriptor_type = 'texture') AS texture_count,
       count(*) FILTER (WHERE descriptor_type = 'defect') AS defect_count,
       count(*) FILTER (WHERE descriptor_type = 'metaphor') AS metaphor_count,
       count(*) FILTER (WHERE descriptor_type = 'mouthfeel') AS mouthfeel_count,
       count(DISTINCT (source_type, source_id)) AS source_count,
       count(DISTINCT category) AS category_count,
       max(created_at) AS latest_descriptor_at,
       count(*) FILTER (WHERE ai_extracted) AS ai_extracted_count,
       count(*) FILTER (WHERE NOT ai_extracted) AS keyword_count
FROM public.flavor_descriptors
GROUP BY user_id
""",
}

VIEW_KEYS: dict[str, str] = {
    "mv_user_descriptor_summary": (
        "(user_id, descriptor_type, category, subcategory, normalized_form)"
    ),
    "mv_global_descriptor_stats": "(descriptor_type, category, subcategory, normalized_form)",
    "mv_category_descriptor_summary": (
        "(item_category, descriptor_type, category, subcategory, normalized_form)"
    ),
    "mv_wheel_generation_stats": "(user_id)",
}


# What the API roles may read of other users' writing: groups at least this
# many users wrote (the same number as revision 002's shared vocabulary).
SHARED_MIN_USERS = 3

# The change rows and the refresh's counts are unlogged. They are derived from
# flavor_descriptors, and their WAL cost more than rebuilding them does after
# the rare event that empties them: a record for each change row a write
# appends, and a full page image of each page a refresh first touches after a
# checkpoint (half the WAL of a refresh at ten million rows). A crash, a
# promoted standby or a restored base backup leaves unlogged tables empty, so
# empty counts over a table with rows mean they were lost: the next refresh
# rebuilds everything from flavor_descriptors, as refresh_descriptor_views(true)
# does. The summaries themselves are logged: the API reads them.
COUNTS_LOST = (
    "(NOT EXISTS (SELECT FROM public.mv_refresh_groups) "
    "AND EXISTS (SELECT FROM public.flavor_descriptors))"
)


# The columns of flavor_descriptors a change row copies (what the summaries
# read), with their types in mv_refresh_changes. All may be NULL there: a
# write must never fail on its bookkeeping.
TRACKED: dict[str, str] = {
    "user_id": "uuid",
    "source_type": "text",
    "source_id": "uuid",
    "descriptor_text": "text",
    "descriptor_type": "text",
    "category": "text",
    "subcategory": "text",
    "normalized_form": "text",
    "intensity": "integer",
    "confidence_score": "numeric",
    "item_name": "text",
    "item_category": "text",
    "created_at": "timestamptz",
    "ai_extracted": "boolean",
}


def column_ddl(name: str, kind: str) -> str:
    """One column; an integer (intensity) copies flavor_descriptors' own type."""
    ignore = "    -- squawk-ignore prefer-bigint-over-int\n" if kind == "integer" else ""
    return f"{ignore}    {name} {kind}"


CHANGE_COLUMNS_DDL = ",\n".join(column_ddl(name, kind) for name, kind in TRACKED.items())
CHANGE_COLUMNS = ", ".join(TRACKED)

# The refresh's own counts, from which it brings the aggregates over all
# users up to date by adding what changed, instead of reading every row of a
# changed group again (a popular form has rows from most users). Per
# (form, type, category, subcategory, item category) group ("CG" below): its
# totals and rows per intensity, and how often each spelling, item name and
# user occurs in it; per (form, type, category, subcategory) group ("G"): its
# users and smallest row id; per user: how often each source and category
# occurs. A count of distinct values changes when a value's count leaves or
# reaches 0; a mode is read from the few counts of one group, a median worked
# out from its rows per intensity; a maximum or minimum is read again only
# when a change removed the value it was.
G_KEY = ("normalized_form", "descriptor_type", "category", "subcategory")
CG_KEY = (*G_KEY, "item_category")
NOT_NULL_KEYS = frozenset(
    {"normalized_form", "descriptor_type", "user_id", "descriptor_text", "intensity",
     "item_name", "source_type", "source_id"}
)  # fmt: skip
# The intensities flavor_descriptors' check allows (1 to 5, since revision
# 000): a group counts each in a column of its own, so a median is worked out
# from the group's row alone. A value outside them (the check dropped) is in
# intensity_count and in none of these; such a group's median is read from
# its rows instead (see median()).
INTENSITIES = range(1, 6)
INTENSITY_COUNTS = tuple(f"intensity_{i}" for i in INTENSITIES)
COUNT_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    # name -> (unique key, columns)
    "mv_refresh_groups": (
        CG_KEY,
        "occurrences bigint NOT NULL, intensity_sum bigint NOT NULL, "
        "intensity_count bigint NOT NULL, confidence_sum numeric NOT NULL, "
        "confidence_count bigint NOT NULL, users bigint NOT NULL, items bigint NOT NULL, "
        "last_used_at timestamptz, " + ", ".join(f"{c} bigint NOT NULL" for c in INTENSITY_COUNTS),
    ),
    "mv_refresh_group_texts": ((*CG_KEY, "descriptor_text"), "occurrences bigint NOT NULL"),
    "mv_refresh_group_items": ((*CG_KEY, "item_name"), "occurrences bigint NOT NULL"),
    # User first: a refresh reads and writes the rows of the changed (user,
    # form, type) keys, a few per user, so a user's rows share pages (as a
    # full rebuild writes them) and one index range.
    "mv_refresh_group_users": (
        ("user_id", "normalized_form", "descriptor_type", *CG_KEY[2:]),
        "occurrences bigint NOT NULL, last_used_at timestamptz, sample_id text",
    ),
    "mv_refresh_global_groups": (G_KEY, "users bigint NOT NULL, sample_id text"),
    "mv_refresh_user_sources": (
        ("user_id", "source_type", "source_id"),
        "occurrences bigint NOT NULL",
    ),
    "mv_refresh_user_categories": (("user_id", "category"), "occurrences bigint NOT NULL"),
}
COUNT_TABLE_NAMES = list(COUNT_TABLES)


def key_column_ddl(column: str) -> str:
    return column_ddl(column, TRACKED[column]) + (" NOT NULL" if column in NOT_NULL_KEYS else "")


def key_expressions(key: Sequence[str]) -> str:
    """A key as index expressions: a NULL-able text as its value or '' and whether NULL.

    Equality on these finds NULL keys by index, where IS NOT DISTINCT FROM
    cannot use one (see same()).
    """
    return ", ".join(
        c if c in NOT_NULL_KEYS else f"(coalesce({c}, '')), (({c} IS NULL))" for c in key
    )


KEY_COLUMNS_DDL = {
    name: ",\n".join(key_column_ddl(c) for c in key) for name, (key, _) in COUNT_TABLES.items()
}
# Room left on each page of a table the refresh updates in place: an update
# that changes no indexed column then stays on its page with no new index
# entry (a HOT update), so it dirties one page where it would dirty several.
IN_PLACE_FILLFACTOR = 80

# Empty tables with a unique key each (a NULL category is a key too), read
# and written only by the refresh (under its lock: it finds rows it read
# again by ctid), which updates their counts in place. Unlogged, like
# mv_refresh_changes: see COUNTS_LOST.
CREATE_COUNT_TABLES = "\n".join(
    f"""CREATE UNLOGGED TABLE IF NOT EXISTS public.{name} (
{KEY_COLUMNS_DDL[name]},
    {extra}
) WITH (fillfactor = {IN_PLACE_FILLFACTOR});
-- A new, empty table: nothing to wait for.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS {name}_key ON public.{name} ({key_expressions(key)});
COMMENT ON TABLE public.{name} IS
    'Counts refresh_descriptor_views() keeps to bring the summaries up to date by difference.';
REVOKE ALL ON public.{name} FROM PUBLIC;
-- Enabling it again is harmless, so a re-run is safe.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;"""
    for name, (key, extra) in COUNT_TABLES.items()
)
# A group's newest time, read again when the one it had went away (users
# edit and delete their newest rows most): one probe down this index, where
# the key (form, type, user) spreads a group's rows among every user of the
# form. At ten million rows those re-reads took 8.6 s of an 18.8 s refresh,
# and 0.16 s with it. An update that moves a time is no longer in place.
COUNT_INDEXES = {
    "mv_refresh_group_users_newest": (
        "mv_refresh_group_users",
        f"{key_expressions(CG_KEY)}, last_used_at",
    ),
}
CREATE_COUNT_INDEXES = "\n".join(
    f"""-- A new, empty table: nothing to wait for.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS {name} ON public.{table} ({definition});"""
    for name, (table, definition) in COUNT_INDEXES.items()
)


# Not readable or executable by the API roles: the views bypass row level
# security, the builder trusts its caller, refreshing is a maintenance job.
REVOKE_FROM_API_ROLES = f"""
DO $$
DECLARE
    r text;
    obj text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r);
        FOREACH obj IN ARRAY ARRAY['mv_user_descriptor_summary', 'mv_global_descriptor_stats',
                                   'mv_category_descriptor_summary', 'mv_wheel_generation_stats',
                                   'mv_refresh_status', 'mv_refresh_log',
                                   'mv_refresh_changes'] || ARRAY{COUNT_TABLE_NAMES} LOOP
            EXECUTE format('REVOKE ALL ON public.%I FROM %I', obj, r);
        END LOOP;
        EXECUTE format('REVOKE ALL ON FUNCTION public.refresh_descriptor_views(boolean) '
                       'FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavatix_wheel_json(text, uuid, text, '
                       'text[], integer, integer) FROM %I', r);
    END LOOP;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT EXECUTE ON FUNCTION public.refresh_descriptor_views(boolean) TO service_role;
    END IF;
END;
$$;
"""


def same(a: str, b: str, columns: Sequence[str]) -> str:
    """Join condition on key columns, NULL matching NULL, in terms an index can serve."""
    return " AND ".join(
        f"{a}.{c} = {b}.{c}"
        if c in NOT_NULL_KEYS
        else f"coalesce({a}.{c}, '') = coalesce({b}.{c}, '') "
        f"AND ({a}.{c} IS NULL) = ({b}.{c} IS NULL)"
        for c in columns
    )


CREATE_STATUS = """
CREATE TABLE IF NOT EXISTS public.mv_refresh_log (
    view_name text PRIMARY KEY,
    last_refreshed_at timestamptz
);

-- One row per row version a write removed (sign -1) or added (+1), appended
-- by the change-tracking triggers, with the columns the summaries read: an
-- insert adds one, a delete one, an update two (changed_rows counts the rows
-- written: 1 on the added or deleted version, 0 on an update's old one).
-- Appending (never updating a shared counter row) keeps concurrent writers
-- from queueing behind each other's row locks until commit. Unlogged, with
-- the refresh's counts: a write does not log its change row (see COUNTS_LOST).
CREATE UNLOGGED TABLE IF NOT EXISTS public.mv_refresh_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_rows bigint NOT NULL CHECK (changed_rows IN (0, 1)),
    sign bigint NOT NULL CHECK (sign IN (-1, 1)),
{CHANGE_COLUMNS_DDL},
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.mv_refresh_log IS
    'When refresh_descriptor_views() last refreshed each descriptor view.';
COMMENT ON TABLE public.mv_refresh_changes IS
    'Row versions written since the last refresh (sign -1 removed, +1 added), with the '
    'columns the summaries read; consumed by refresh_descriptor_views().';

-- Revision 002's search tables were filled before change tracking began:
-- the first refresh rebuilds them whole, unless the table was empty, when
-- nothing can have been missed. This revision's are filled below, after it
-- began.
WITH search(missed) AS (
    SELECT CASE WHEN EXISTS (SELECT FROM public.flavor_descriptors)
                THEN NULL ELSE now() END)
INSERT INTO public.mv_refresh_log (view_name, last_refreshed_at)
SELECT v.view_name, v.refreshed_at
FROM search,
     LATERAL (VALUES ('mv_descriptor_search', search.missed),
                     ('mv_descriptor_search_shared', search.missed),
                     ('mv_descriptor_search_forms', search.missed),
                     ('mv_descriptor_search_prefixes', search.missed),
                     ('mv_descriptor_search_pairs', search.missed),
                     ('mv_descriptor_search_pair_users', search.missed),
                     ('mv_descriptor_search_user_pairs', search.missed),
                     ('mv_user_descriptor_summary', now()),
                     ('mv_global_descriptor_stats', now()),
                     ('mv_category_descriptor_summary', now()),
                     ('mv_wheel_generation_stats', now())) AS v (view_name, refreshed_at)
ON CONFLICT (view_name) DO NOTHING;

-- The refresh's own counts start empty: the first refresh builds them whole,
-- unless the table is empty too, when empty counts are right.
INSERT INTO public.mv_refresh_log (view_name, last_refreshed_at)
SELECT unnest(ARRAY{COUNT_TABLE_NAMES}),
       CASE WHEN EXISTS (SELECT FROM public.flavor_descriptors) THEN NULL ELSE now() END
ON CONFLICT (view_name) DO NOTHING;

CREATE OR REPLACE VIEW public.mv_refresh_status AS
SELECT l.view_name,
       l.last_refreshed_at,
       c.records_since_refresh,
       (l.last_refreshed_at IS NULL OR c.records_since_refresh > 0) AS needs_refresh
FROM public.mv_refresh_log l
CROSS JOIN (SELECT coalesce(sum(changed_rows), 0)::bigint AS records_since_refresh
            FROM public.mv_refresh_changes) c;

COMMENT ON VIEW public.mv_refresh_status IS
    'When each descriptor view was last refreshed and how many rows changed since.';

REVOKE ALL ON public.mv_refresh_log, public.mv_refresh_changes, public.mv_refresh_status
    FROM PUBLIC;
""".replace("{CHANGE_COLUMNS_DDL}", CHANGE_COLUMNS_DDL).replace(
    "{COUNT_TABLE_NAMES}", str(COUNT_TABLE_NAMES)
)

# Every write is recorded per row, as the row versions it removed and added.
# Row triggers, not statement triggers with transition tables: on the
# partitioned table (revision 005) an UPDATE that moves a row to another month
# fires the row triggers as a DELETE and an INSERT, and the UPDATE's statement
# trigger too, so a statement trigger would record that row twice; with row
# triggers every version is recorded once. The common write is one INSERT of
# one row, and a row trigger appending one VALUES row costs it least
# (flavatix-db bench measures it: "insert_tracking"). An UPDATE that changes
# none of the tracked columns (updated_at only, say) records nothing.
# SECURITY DEFINER because writers (authenticated on Supabase) may not touch
# mv_refresh_changes; a trigger function needs no EXECUTE grant to fire, so
# none is given to anyone.
TRACKED_OLD = ", ".join(f"OLD.{c}" for c in TRACKED)
TRACKED_NEW = ", ".join(f"NEW.{c}" for c in TRACKED)
# One flat OR (not a row comparison, which PostgreSQL expands into nested
# ORs): the trigger's text reads back the same when revision 005 copies it.
TRACKED_CHANGED = "\n          OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in TRACKED)
CREATE_TRACKING = f"""
CREATE OR REPLACE FUNCTION public.flavor_descriptors_count_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.mv_refresh_changes (changed_rows, sign, {CHANGE_COLUMNS})
    VALUES (1, 1, {TRACKED_NEW});
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION public.flavor_descriptors_count_changes()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO public.mv_refresh_changes (changed_rows, sign, {CHANGE_COLUMNS})
        VALUES (1, -1, {TRACKED_OLD});
    ELSE
        INSERT INTO public.mv_refresh_changes (changed_rows, sign, {CHANGE_COLUMNS})
        VALUES (0, -1, {TRACKED_OLD}),
               (1, 1, {TRACKED_NEW});
    END IF;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION public.flavor_descriptors_count_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.flavor_descriptors_count_changes() FROM PUBLIC;

DROP TRIGGER IF EXISTS flavor_descriptors_count_inserts ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_inserts
    AFTER INSERT ON public.flavor_descriptors
    FOR EACH ROW EXECUTE FUNCTION public.flavor_descriptors_count_insert();
DROP TRIGGER IF EXISTS flavor_descriptors_count_updates ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_updates
    AFTER UPDATE ON public.flavor_descriptors
    FOR EACH ROW
    WHEN ({TRACKED_CHANGED})
    EXECUTE FUNCTION public.flavor_descriptors_count_changes();
DROP TRIGGER IF EXISTS flavor_descriptors_count_deletes ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_deletes
    AFTER DELETE ON public.flavor_descriptors
    FOR EACH ROW EXECUTE FUNCTION public.flavor_descriptors_count_changes();
"""

CREATE_SHOULD_REFRESH = """
CREATE OR REPLACE FUNCTION public.should_refresh_views(p_threshold integer DEFAULT 100)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF p_threshold IS NULL THEN
        RAISE EXCEPTION 'should_refresh_views: p_threshold must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF p_threshold < 1 THEN
        RAISE EXCEPTION 'should_refresh_views: p_threshold must be at least 1, not %', p_threshold
            USING ERRCODE = '22023';
    END IF;
    RETURN EXISTS (SELECT FROM public.mv_refresh_log WHERE last_refreshed_at IS NULL)
        OR {COUNTS_LOST}
        OR (SELECT coalesce(sum(changed_rows), 0) FROM public.mv_refresh_changes)
           >= p_threshold;
END;
$$;

""".replace("{COUNTS_LOST}", COUNTS_LOST)

# Categories, totals and percentages from the subcategory rows ("subs": cat,
# sub, n, descriptors) of either wheel path, so both build the JSON the same
# way. Percentages are tenths distributed by largest remainder: they sum to
# exactly 100.0.
WHEEL_ASSEMBLY = """
), cats AS (
    SELECT s.cat, sum(s.n) AS n,
           jsonb_agg(jsonb_build_object('name', s.sub, 'count', s.n,
                                        'descriptors', s.descriptors)
                     ORDER BY s.n DESC, s.sub) AS subcategories
    FROM subs s
    GROUP BY s.cat
), total AS (
    SELECT coalesce(sum(c.n), 0) AS n FROM cats c
), tenths AS (
    SELECT c.cat, c.n, c.subcategories,
           floor(c.n * 1000 / t.n) AS units,
           c.n * 1000 - floor(c.n * 1000 / t.n) * t.n AS remainder
    FROM cats c CROSS JOIN total t
    WHERE t.n > 0
), shares AS (
    SELECT x.*,
           row_number() OVER (ORDER BY x.remainder DESC, x.n DESC, x.cat)
               <= 1000 - sum(x.units) OVER () AS bonus
    FROM tenths x
)
SELECT jsonb_build_object(
    'categories', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'name', s.cat, 'count', s.n,
                                'percentage', round((s.units + s.bonus::integer) / 10.0, 1),
                                'subcategories', s.subcategories)
                            ORDER BY s.n DESC, s.cat)
                            FROM shares s), '[]'::jsonb),
    'totalDescriptors', (SELECT t.n FROM total t),
    'uniqueDescriptors', {unique_descriptors},
    'generatedAt', now())
"""


def wheel_assembly(unique_descriptors: str, indent: int = 0) -> str:
    """WHEEL_ASSEMBLY with its distinct-form count, indented to fit its function body."""
    text = WHEEL_ASSEMBLY.strip("\n").replace("{unique_descriptors}", unique_descriptors)
    return textwrap.indent(text, " " * indent)


# The wheel JSON of one scope, built from the per-form summaries: 'personal'
# (one user's rows), 'universal' (all rows) or 'category' (one item_category).
# NULL names become 'Uncategorized' / 'General'; percentages are tenths
# distributed by largest remainder, so they sum to exactly 100.0. This is the
# reference every other way of building a wheel must agree with, and the path
# for whatever the per-subcategory view below cannot answer. Internal: callers
# go through functions that check their arguments and who may see what.
CREATE_WHEEL_JSON_FROM_FORMS = f"""
CREATE OR REPLACE FUNCTION public.flavatix_wheel_json_from_forms(
    p_scope text, p_user_id uuid, p_item_category text, p_types text[],
    p_min_count integer, p_max_per_subcategory integer)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ''
AS $$
WITH src AS (
    SELECT s.normalized_form, s.descriptor_text, s.category, s.subcategory,
           s.occurrence_count AS n, s.intensity_sum, s.intensity_count
    FROM public.mv_user_descriptor_summary s
    WHERE p_scope = 'personal' AND s.user_id = p_user_id
      AND s.descriptor_type = ANY (p_types)
    UNION ALL
    SELECT g.normalized_form, g.descriptor_text, g.category, g.subcategory,
           g.total_occurrences, g.intensity_sum, g.intensity_count
    FROM public.mv_global_descriptor_stats g
    WHERE p_scope = 'universal' AND g.descriptor_type = ANY (p_types)
    UNION ALL
    SELECT c.normalized_form, c.descriptor_text, c.category, c.subcategory,
           c.total_occurrences, c.intensity_sum, c.intensity_count
    FROM public.mv_category_descriptor_summary c
    WHERE p_scope = 'category' AND c.item_category = p_item_category
      AND c.descriptor_type = ANY (p_types)
), descriptors AS (
    SELECT coalesce(src.category, 'Uncategorized') AS cat,
           coalesce(src.subcategory, 'General') AS sub,
           src.normalized_form,
           (array_agg(src.descriptor_text ORDER BY src.n DESC, src.descriptor_text))[1] AS label,
           sum(src.n) AS n,
           sum(src.intensity_sum) AS isum,
           sum(src.intensity_count) AS icount
    FROM src
    GROUP BY 1, 2, 3
    HAVING sum(src.n) >= p_min_count
), ranked AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.cat, d.sub ORDER BY d.n DESC, d.label) AS rn
    FROM descriptors d
), subs AS (
    SELECT r.cat, r.sub, sum(r.n) AS n,
           jsonb_agg(jsonb_build_object(
                         'text', r.label, 'count', r.n,
                         'avgIntensity', CASE WHEN r.icount > 0
                                              THEN round(r.isum / r.icount, 2) END)
                     ORDER BY r.n DESC, r.label)
               FILTER (WHERE r.rn <= p_max_per_subcategory) AS descriptors
    FROM ranked r
    GROUP BY r.cat, r.sub
{wheel_assembly("(SELECT count(DISTINCT d.normalized_form) FROM descriptors d)")};
$$;

REVOKE ALL ON FUNCTION public.flavatix_wheel_json_from_forms(
    text, uuid, text, text[], integer, integer) FROM PUBLIC;
"""

# A personal wheel used to aggregate every per-form row of the user at each
# call: sort, group, rank and turn into JSON all of them (over 5,000 forms for
# the heaviest user at 1M rows, several times that at 10M), only to keep the
# top few per subcategory.
# This view does that work at refresh time, once per (user, wheel type,
# subcategory), for the four wheel types a caller may ask for ('combined' is
# aroma and flavor merged by normalized form, exactly as the reference merges
# them). A row holds what the wheel shows of a subcategory: its count, its
# descriptors ranked as the wheel ranks them (the first WHEEL_TOP_N, enough
# for any p_max_per_subcategory since callers cap it there) and the wheel's
# number of distinct forms. A wheel then reads one row per subcategory by
# index (a hundred or so for the heaviest user) instead of every form. The
# first WHEEL_FIRST_N of them (the default p_max_per_subcategory) are kept
# apart: small enough to stay in the row, so a default wheel never
# decompresses the long lists of a heavy user's subcategories. The long list
# is kept only where it is longer (NULL otherwise: no second copy).
#
# Built on mv_user_descriptor_summary rather than the table: refreshing it
# costs a pass over that view, not another aggregation of every row, and both
# paths start from the same per-form rows, so they agree row for row.
# refresh_descriptor_views() refreshes it after the view it reads.
#
# Only users with at least WHEEL_VIEW_MIN_ROWS aroma, flavor and metaphor rows
# are held. The per-form path costs a few microseconds a form, so below that it
# answers in a few milliseconds at most, like reading the view; the view then
# holds the users whose wheels are slow, at a fraction of the rows (most users
# are light) and of the refresh time. Grouping and partitioning compare names
# in the "C" collation: only equality matters there, and equality is the same
# in every deterministic collation; orderings the wheel shows (label, category
# and subcategory names) keep the database collation.
#
# It answers p_min_count = 1 only (every form counts then): with a higher
# minimum the subcategory totals and the distinct count depend on which forms
# pass, and such calls take the reference path.
WHEEL_VIEW = "mv_user_wheel_subcategories"
WHEEL_TOP_N = 100
WHEEL_FIRST_N = 10
WHEEL_VIEW_MIN_ROWS = 200
# What a wheel shows of one form (label, count, intensity sums), from its
# per-form summary rows: the same in the whole build and the keyed one.
WHEEL_FORM_AGGREGATES = textwrap.indent(
    """(array_agg(s.descriptor_text ORDER BY s.occurrence_count DESC, s.descriptor_text))[1]
    AS label,
sum(s.occurrence_count) AS n,
sum(s.intensity_sum) AS isum,
sum(s.intensity_count) AS icount""",
    " " * 11,
)
WHEEL_VIEW_BODY = f"""
WITH heavy AS (
    SELECT s.user_id
    FROM public.mv_user_descriptor_summary s
    WHERE s.descriptor_type IN ('aroma', 'flavor', 'metaphor'){{heavy_filter}}
    GROUP BY s.user_id
    HAVING sum(s.occurrence_count) >= {WHEEL_VIEW_MIN_ROWS}
), forms AS (
    SELECT s.user_id, w.wheel_type COLLATE "C" AS wheel_type,
           coalesce(s.category, 'Uncategorized') COLLATE "C" AS category,
           coalesce(s.subcategory, 'General') COLLATE "C" AS subcategory,
           s.normalized_form COLLATE "C" AS normalized_form,
{WHEEL_FORM_AGGREGATES}
    FROM public.mv_user_descriptor_summary s
    CROSS JOIN LATERAL (VALUES (s.descriptor_type),
                               (CASE WHEN s.descriptor_type IN ('aroma', 'flavor')
                                     THEN 'combined' END)) AS w (wheel_type)
    WHERE s.user_id IN (SELECT h.user_id FROM heavy h)
      AND s.descriptor_type IN ('aroma', 'flavor', 'metaphor') AND w.wheel_type IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
), ranked AS (
    SELECT f.*, row_number() OVER (PARTITION BY f.user_id, f.wheel_type, f.category,
                                                f.subcategory
                                   ORDER BY f.n DESC, f.label) AS rn
    FROM forms f
), wheels AS (
    SELECT f.user_id, f.wheel_type, count(DISTINCT f.normalized_form) AS unique_descriptors
    FROM forms f
    GROUP BY f.user_id, f.wheel_type
)
SELECT t.user_id, t.wheel_type, t.category, t.subcategory, t.descriptor_count, t.form_count,
       jsonb_path_query_array(t.top_descriptors, '$[0 to {WHEEL_FIRST_N - 1}]')
           AS first_descriptors,
       CASE WHEN t.form_count > {WHEEL_FIRST_N} THEN t.top_descriptors END AS top_descriptors,
       -- On the wheel's first row only (see WHEEL_VIEW_KEY).
       CASE WHEN row_number() OVER (PARTITION BY t.user_id, t.wheel_type
                                    ORDER BY t.category, t.subcategory) = 1
            THEN w.unique_descriptors END AS unique_descriptors
FROM (
    -- Grouped in the order the ranking left the rows in (no sort), and
    -- joined to the wheel's count after.
    SELECT r.user_id, r.wheel_type AS wheel_key,
           r.wheel_type COLLATE "default" AS wheel_type,
           r.category COLLATE "default" AS category,
           r.subcategory COLLATE "default" AS subcategory,
           sum(r.n) AS descriptor_count,
           count(*) AS form_count,
           jsonb_agg(jsonb_build_object(
                         'text', r.label, 'count', r.n,
                         'avgIntensity', CASE WHEN r.icount > 0
                                              THEN round(r.isum / r.icount, 2) END)
                     ORDER BY r.n DESC, r.label)
               FILTER (WHERE r.rn <= {WHEEL_TOP_N}) AS top_descriptors
    FROM ranked r
    GROUP BY r.user_id, r.wheel_type, r.category, r.subcategory
) t
JOIN wheels w ON w.user_id = t.user_id AND w.wheel_type = t.wheel_key
"""
WHEEL_VIEW_KEY = "(user_id, wheel_type, category, subcategory)"
# A wheel's count of distinct forms is on its first row by (category,
# subcategory), NULL on the others (flavatix_wheel_json() reads the largest):
# a refresh that changes the count rewrites one row of the wheel, not all.
REFRESH_LOCK_KEY = 3003003  # pg_advisory_xact_lock key: one refresh at a time

# The summaries refresh_descriptor_views() rebuilds whole from the table on a
# full rebuild, in order (the wheel table is built from the per-form summary).
# The per-user summary and the generation stats are built with the counts,
# in the statement that takes the changes (see FULL_COUNTS).
SUMMARY_TABLES: dict[str, str] = {
    **VIEWS,
    WHEEL_VIEW: WHEEL_VIEW_BODY.replace("{heavy_filter}", ""),
}
BUILT_WITH_COUNTS = ("mv_user_descriptor_summary", "mv_wheel_generation_stats")


def columns(names: Sequence[str], alias: str = "") -> str:
    return ", ".join(f"{alias}.{n}" if alias else n for n in names)


# Counts of values per group: name -> (group, values, filter on the rows).
COUNTERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "mv_refresh_group_texts": (CG_KEY, ("descriptor_text",), ""),
    "mv_refresh_group_items": (CG_KEY, ("item_name",), "item_name IS NOT NULL"),
    "mv_refresh_user_sources": (("user_id",), ("source_type", "source_id"), ""),
    "mv_refresh_user_categories": (("user_id",), ("category",), "category IS NOT NULL"),
}
# Where the number of distinct values of a counter goes: its shift table.
SHIFTS = {
    "mv_refresh_group_items": "flavatix_shift_items",
    "mv_refresh_user_sources": "flavatix_shift_sources",
    "mv_refresh_user_categories": "flavatix_shift_categories",
}


def where(condition: str, prefix: str = "WHERE") -> str:
    return f" {prefix} {condition}" if condition else ""


def full_counter(name: str) -> str:
    group, values, condition = COUNTERS[name]
    keys = columns((*group, *values))
    return (
        f"INSERT INTO public.{name} ({keys}, occurrences)\n"
        f"    SELECT {keys}, count(*) FROM public.flavor_descriptors x"
        f"{where(condition)}\n    GROUP BY {keys}\n    {in_key_order(name)}"
    )


def in_key_order(name: str) -> str:
    """A count table's rows in the order of its key, as a full rebuild writes them.

    A group's rows (its spellings, item names, users) then share a page or
    two, where rows written in hash order put each on a page of its own: at
    ten million rows, pages the refresh reads from disk.
    """
    return f"ORDER BY {key_expressions(COUNT_TABLES[name][0])}"


def summary_in_key_order(name: str, body: str) -> str:
    """A summary's build, its rows in key order (its select list starts with its key)."""
    width = len((WHEEL_VIEW_KEY if name == WHEEL_VIEW else VIEW_KEYS[name]).split(","))
    return f"{body.rstrip()}\nORDER BY {', '.join(str(i) for i in range(1, width + 1))}"


GROUP_USERS = columns(COUNT_TABLES["mv_refresh_group_users"][0])

# A full rebuild takes the changes and builds every count (and the two
# summaries whose later upkeep adds to what they hold) in one statement, so
# all read the table under one snapshot: a write committed meanwhile is either
# in them or among the changes left for the next refresh, never both.
FULL_BUILDS = {
    **{name: full_counter(name) for name in COUNTERS},
    "mv_refresh_groups": f"""INSERT INTO public.mv_refresh_groups
    SELECT {columns(CG_KEY)}, count(*), coalesce(sum(intensity), 0), count(intensity),
           coalesce(sum(confidence_score), 0), count(confidence_score), count(DISTINCT user_id),
           count(DISTINCT item_name), max(created_at),
           {", ".join(f"count(*) FILTER (WHERE intensity = {i})" for i in INTENSITIES)}
    FROM public.flavor_descriptors GROUP BY {columns(CG_KEY)}
    {in_key_order("mv_refresh_groups")}""",
    "mv_refresh_group_users": f"""INSERT INTO public.mv_refresh_group_users
    SELECT {GROUP_USERS}, count(*), max(created_at), min(id::text)
    FROM public.flavor_descriptors
    GROUP BY {GROUP_USERS}
    {in_key_order("mv_refresh_group_users")}""",
    "mv_refresh_global_groups": f"""INSERT INTO public.mv_refresh_global_groups
    SELECT {columns(G_KEY)}, count(DISTINCT user_id), min(id::text)
    FROM public.flavor_descriptors GROUP BY {columns(G_KEY)}
    {in_key_order("mv_refresh_global_groups")}""",
    **{
        name: f"INSERT INTO public.{name}\n"
        + textwrap.indent(summary_in_key_order(name, VIEWS[name].strip()), "    ")
        for name in BUILT_WITH_COUNTS
    },
}
FULL_COUNTS = (
    f"TRUNCATE {', '.join(f'public.{n}' for n in COUNT_TABLES)};\n"
    + "".join(f"DELETE FROM public.{n};\n" for n in BUILT_WITH_COUNTS)
    + "WITH taken AS (DELETE FROM public.mv_refresh_changes RETURNING 1)"
    + "".join(f",\nbuild_{i} AS (\n{body}\n)" for i, body in enumerate(FULL_BUILDS.values()))
    + "\nSELECT count(*) INTO v_changes FROM taken;"
)


def temp_from(name: str, source: str, select: str = "*") -> str:
    """A fresh temporary table shaped like ``source``, dropped at commit."""
    return (
        f"DROP TABLE IF EXISTS pg_temp.{name};\n"
        f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {select} FROM {source} WITH NO DATA;"
    )


TAKE_CHANGES = f"""{
    temp_from("flavatix_delta", "public.mv_refresh_changes", "sign, " + CHANGE_COLUMNS)
}
WITH taken AS (DELETE FROM public.mv_refresh_changes RETURNING sign, {CHANGE_COLUMNS})
INSERT INTO pg_temp.flavatix_delta SELECT * FROM taken;
GET DIAGNOSTICS v_changes = ROW_COUNT;"""

CG = columns(CG_KEY)
G = columns(G_KEY)
GROUP_SUMS = "occurrences, intensity_sum, intensity_count, confidence_sum, confidence_count"


def counter_upkeep(name: str) -> str:
    """Add the changes to one counter; note how many distinct values each group gained."""
    group, values, condition = COUNTERS[name]
    keys = (*group, *values)
    step = f"flavatix_step_{name.removeprefix('mv_refresh_')}"
    # In key order, so the upsert walks the counter's key index in order.
    changes = f"""SELECT {columns(keys, "x")}, sum(x.sign)::bigint AS change
      FROM pg_temp.flavatix_delta x{where("x." + condition if condition else "")}
      GROUP BY {columns(keys, "x")} HAVING sum(x.sign) <> 0
      ORDER BY {columns(keys, "x")}"""
    # Kept for the delete (the values the upsert left at 0) and, on a counter
    # with a shift, for the shift in distinct values (a value that came or
    # went). A value's count before is its count after less the change, the
    # upsert's result matched to its change: nothing is looked up beforehand.
    if name in SHIFTS:
        kept_columns = columns(keys) + ", occurrences AS before, occurrences"
        kept = f"""SELECT {columns(keys, "w")}, w.occurrences - d.change, w.occurrences
FROM written w JOIN changes d ON {same("w", "d", keys)}
WHERE w.occurrences <= 0 OR w.occurrences - d.change <= 0"""
    else:
        kept_columns = columns(keys) + ", occurrences"
        kept = f"SELECT {columns(keys)}, occurrences FROM written WHERE occurrences = 0"
    upkeep = f"""{temp_from(step, f"public.{name}", kept_columns)}
WITH changes AS MATERIALIZED (
    {changes}
), written AS (
    INSERT INTO public.{name} AS c ({columns(keys)}, occurrences)
    SELECT {columns(keys)}, change FROM changes
    ON CONFLICT ({key_expressions(keys)})
    DO UPDATE SET occurrences = c.occurrences + excluded.occurrences
    RETURNING {columns(keys, "c")}, c.occurrences)
INSERT INTO pg_temp.{step}
{kept};
DELETE FROM public.{name} c USING pg_temp.{step} s
WHERE s.occurrences = 0 AND {same("c", "s", keys)} AND c.occurrences = 0;"""
    if name not in SHIFTS:
        return upkeep
    return f"""{upkeep}
DROP TABLE IF EXISTS pg_temp.{SHIFTS[name]};
CREATE TEMP TABLE {SHIFTS[name]} ON COMMIT DROP AS
SELECT {columns(group)},
       count(*) FILTER (WHERE before <= 0 AND occurrences > 0)
       - count(*) FILTER (WHERE before > 0 AND occurrences <= 0) AS shift
FROM pg_temp.{step} GROUP BY {columns(group)};"""


def median(group: str, keys: str, key: Sequence[str]) -> str:
    """percentile_cont(0.5) of a group's intensities, worked out as it does from its counts.

    ``group`` is the alias of the group's counts (a mv_refresh_groups row, or
    sums over its item categories), ``keys`` that of its ``key`` columns. The
    row at a 0-based position is the first intensity whose running count
    passes it. A group with an intensity outside INTENSITIES has its median
    read from its rows.
    """
    count = f"{group}.intensity_count"
    half = f"0.5::float8 * ({count} - 1)"

    def at(position: str) -> str:
        running = [
            " + ".join(f"{group}.{c}" for c in INTENSITY_COUNTS[: i + 1])
            for i in range(len(INTENSITY_COUNTS) - 1)
        ]
        whens = "".join(
            f"\n          WHEN {position} < {r} THEN {value}"
            for r, value in zip(running, INTENSITIES, strict=False)
        )
        return f"CASE{whens}\n          ELSE {INTENSITIES[-1]} END::float8"

    lo, hi = at(f"floor({half})"), at(f"ceil({half})")
    return f"""CASE WHEN {count} = 0 THEN NULL
     WHEN {" + ".join(f"{group}.{c}" for c in INTENSITY_COUNTS)} <> {count}
     THEN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d.intensity)
           FROM public.flavor_descriptors d WHERE {same("d", keys, key)})
     ELSE {lo}
          + ({hi} - {lo}) * ({half} - floor({half})) END"""


GROUP_MEDIAN = textwrap.indent(median("g", "g", CG_KEY), " " * 7).strip()
GLOBAL_MEDIAN = textwrap.indent(median("s", "k", G_KEY), " " * 7).strip()
INTENSITY_SUMS = "".join(f", sum(g.{c}) AS {c}" for c in INTENSITY_COUNTS)
# A change row's +1 or -1 in the count of its intensity.
INTENSITY_CHANGES = ",\n                 ".join(
    f"CASE WHEN intensity = {i} THEN sign ELSE 0 END AS {c}"
    for i, c in zip(INTENSITIES, INTENSITY_COUNTS, strict=True)
)
INTENSITY_CHANGE_SUMS = "".join(f",\n           sum(x.{c}) AS {c}" for c in INTENSITY_COUNTS)
NO_INTENSITIES = ", 0" * len(INTENSITY_COUNTS)
INTENSITY_UPSERT = ",\n        ".join(f"{c} = g.{c} + excluded.{c}" for c in INTENSITY_COUNTS)
# The group of a (group, user) row found in the old rows, the new ones or both.
EITHER_SIDE = ", ".join(f"CASE WHEN o.user_id IS NULL THEN n.{c} ELSE o.{c} END" for c in CG_KEY)
# The columns of each summary the refresh writes by difference, in table order.
SUMMARY_COLUMNS = {
    "mv_category_descriptor_summary": (
        "item_category", "descriptor_type", "category", "subcategory", "normalized_form",
        "descriptor_text", "total_occurrences", "unique_users", "avg_intensity",
        "avg_confidence", "median_intensity", "intensity_sum", "intensity_count", "item_count",
        "last_used_at",
    ),
    "mv_global_descriptor_stats": (
        "descriptor_type", "category", "subcategory", "normalized_form", "descriptor_text",
        "total_occurrences", "unique_users", "avg_intensity", "avg_confidence",
        "median_intensity", "intensity_sum", "intensity_count", "category_breadth",
        "last_used_at",
    ),
    "mv_descriptor_search": (
        "normalized_form", "descriptor_type", "category", "subcategory", "descriptor_text",
        "usage_count", "sample_id", "unique_users",
    ),
}  # fmt: skip


def write_changes(table: str, key: Sequence[str], fresh: str, changed: str) -> str:
    """Make ``table``'s rows of the ``changed`` keys those of ``fresh``, by difference.

    Only rows that differ are touched: an update of unindexed columns only stays
    on its page with no new index entries (where the page has room), a group
    gone is deleted, a new one inserted. One statement: all three see the table
    as it was.
    """
    cols = SUMMARY_COLUMNS[table]
    values = [c for c in cols if c not in key]
    # Indexed and analyzed, so that finding the groups gone is one probe each
    # (the key's statistics are what those plans read; the rest cost time).
    return f"""CREATE INDEX ON {fresh} ({key_expressions(key)});
ANALYZE {fresh} ({columns(key)});
WITH updated AS (
    UPDATE public.{table} x SET {", ".join(f"{c} = f.{c}" for c in values)}
    FROM {fresh} f
    WHERE {same("x", "f", key)}
      AND ({columns(values, "x")}) IS DISTINCT FROM ({columns(values, "f")})
), deleted AS (
    DELETE FROM public.{table} x USING {changed} k
    WHERE {same("x", "k", key)}
      AND NOT EXISTS (SELECT FROM {fresh} f WHERE {same("f", "k", key)})
)
INSERT INTO public.{table} ({columns(cols)})
SELECT {columns(cols, "f")} FROM {fresh} f
WHERE NOT EXISTS (SELECT FROM public.{table} x WHERE {same("x", "f", key)});"""


WRITE_CATEGORY = write_changes(
    "mv_category_descriptor_summary",
    CG_KEY,
    "pg_temp.flavatix_category_fresh",
    "pg_temp.flavatix_groups_changed",
)
WRITE_GLOBAL = write_changes(
    "mv_global_descriptor_stats",
    G_KEY,
    "pg_temp.flavatix_global_fresh",
    "pg_temp.flavatix_global_changed",
)
WRITE_SEARCH = write_changes(
    "mv_descriptor_search",
    G_KEY,
    "pg_temp.flavatix_search_fresh",
    "pg_temp.flavatix_global_changed",
)


def rewrite_read_rows(
    table: str, old: str, new: str, key: Sequence[str], values: Sequence[str]
) -> str:
    """Make ``table``'s rows read into ``old`` (with their ctid) those of ``new``, by difference.

    A row that differs is updated rather than deleted and inserted: in place
    (HOT) where its page has room and no indexed column changed. Only this
    refresh, under its lock, writes ``table``, so a row read is found again by
    where it was, with no index probe. One statement: all three parts see the
    table as it was.
    """
    return f"""WITH updated AS (
    UPDATE public.{table} x
    SET {", ".join(f"{c} = n.{c}" for c in values)}
    FROM {old} o
    JOIN {new} n ON {same("o", "n", key)}
    WHERE x.ctid = o.row_ctid
      AND ({columns(values, "o")})
          IS DISTINCT FROM ({columns(values, "n")})
), deleted AS (
    DELETE FROM public.{table} x
    USING {old} o
    WHERE x.ctid = o.row_ctid
      AND NOT EXISTS (SELECT FROM {new} n WHERE {same("n", "o", key)})
)
INSERT INTO public.{table}
SELECT n.* FROM {new} n
WHERE NOT EXISTS (SELECT FROM {old} o WHERE {same("o", "n", key)});"""


def kept_extreme(agg: str, column: str, lost: str, new: str, key: Sequence[str]) -> str:
    """A group's max or min of ``column`` over its (group, user) rows, by difference.

    ``m.<lost>`` is the most extreme value that went away or moved, ``m.<new>``
    the most extreme new one, ``cur`` the group's row: the rows are read again
    only when the value the group had may be the one that went.
    """
    went, pick = (">=", "greatest") if agg == "max" else ("<=", "least")
    return (
        f"CASE WHEN m.{lost} {went} cur.{column}\n"
        f"     THEN (SELECT {agg}(a.{column}) FROM public.mv_refresh_group_users a\n"
        f"           WHERE {same('a', 'c', key)})\n"
        f"     ELSE {pick}(cur.{column}, m.{new}) END"
    )


MOVED_COLUMNS = (
    CG + ", last_used_at AS lost_at, sample_id AS lost_sample, "
    "last_used_at AS new_at, sample_id AS new_sample"
)
KEY_USERS = "unnest(v_key_users, v_key_forms, v_key_types) AS k (u, f, t)"
USERS_KEY = (*CG_KEY, "user_id")
# What the group users and the per-form summary read of a changed key's rows.
KEY_ROW_COLUMNS = "id, " + CHANGE_COLUMNS


def read_key_rows(temp: str, table: str) -> str:
    """``table``'s rows of the changed (user, form, type) keys, with where they are, into ``temp``.

    The keys are distinct and in (user, form, type) order: an index that
    leads with those finds each next to the one before.
    """
    return f"""{temp_from(temp, f"public.{table}", "*, ctid AS row_ctid")}
INSERT INTO pg_temp.{temp}
SELECT x.*, x.ctid
FROM {KEY_USERS}
JOIN public.{table} x
  ON x.user_id = k.u AND x.normalized_form = k.f AND x.descriptor_type = k.t;"""


WRITE_GROUP_USERS = rewrite_read_rows(
    "mv_refresh_group_users",
    "pg_temp.flavatix_users_old",
    "pg_temp.flavatix_users_new",
    USERS_KEY,
    ("occurrences", "last_used_at", "sample_id"),
)

# The summaries' changed groups, from the counts: the changes' own groups
# first, then who wrote in them (recomputed from the table by (user, form,
# type), each one index probe), then the rows of the three aggregates over
# all users.
INCREMENTAL_COUNTS = f"""
{chr(10).join(counter_upkeep(name) for name in COUNTERS)}
-- The changed keys' rows as they are now, read once for the group users here
-- and for the per-form summary (INCREMENTAL_PER_USER).
{temp_from("flavatix_key_rows", "public.flavor_descriptors", KEY_ROW_COLUMNS)}
-- In key order, as read_key_rows reads (the table's index on the three).
INSERT INTO pg_temp.flavatix_key_rows
SELECT {columns(KEY_ROW_COLUMNS.split(", "), "d")}
FROM {KEY_USERS}
JOIN public.flavor_descriptors d
  ON d.user_id = k.u AND d.normalized_form = k.f AND d.descriptor_type = k.t;
{read_key_rows("flavatix_users_old", "mv_refresh_group_users")}
{temp_from("flavatix_users_new", "public.mv_refresh_group_users")}
INSERT INTO pg_temp.flavatix_users_new
SELECT {GROUP_USERS}, count(*), max(created_at), min(id::text)
FROM pg_temp.flavatix_key_rows
GROUP BY {GROUP_USERS};
-- Statistics, so the two are matched by hashing, not row by row.
ANALYZE pg_temp.flavatix_users_old ({GROUP_USERS});
ANALYZE pg_temp.flavatix_users_new ({GROUP_USERS});
-- Written only where a (group, user) row differs: in place where the newest
-- time holds, while a moved time also adds an entry to
-- mv_refresh_group_users_newest.
{WRITE_GROUP_USERS}
{temp_from("flavatix_users_moved", "pg_temp.flavatix_users_old", MOVED_COLUMNS)}
-- Per (group, user): a newest time or smallest id that went away or moved
-- (which may have been the group's own), and the new ones.
INSERT INTO pg_temp.flavatix_users_moved
SELECT {EITHER_SIDE},
       CASE WHEN n.last_used_at IS NULL OR n.last_used_at < o.last_used_at
            THEN o.last_used_at END,
       CASE WHEN n.sample_id IS NULL OR n.sample_id > o.sample_id THEN o.sample_id END,
       n.last_used_at, n.sample_id
FROM pg_temp.flavatix_users_old o
FULL JOIN pg_temp.flavatix_users_new n ON {same("o", "n", USERS_KEY)};
-- Each group's totals move by its changes; its users by its (group, user)
-- rows (every row of one has the changed (user, form, type), so the old and
-- new rows say exactly how many users it gained or lost), its item names by
-- those whose count reached or left zero; its newest time is read again from
-- its users only when the one it had went away. Groups left with nothing are
-- noted for deletion.
{temp_from("flavatix_groups_emptied", "public.mv_refresh_groups", CG)}
WITH moved AS (
    SELECT {CG}, max(lost_at) AS lost_at, max(new_at) AS new_at
    FROM pg_temp.flavatix_users_moved GROUP BY {CG}
), change AS (
    SELECT {CG}, sum(x.occurrences) AS occurrences, sum(x.intensity_sum) AS intensity_sum,
           sum(x.intensity_count) AS intensity_count,
           -- A zero change is written 0 (not 0.00), so a sum keeps its own scale.
           CASE WHEN sum(x.confidence_sum) = 0 THEN 0 ELSE sum(x.confidence_sum) END
               AS confidence_sum,
           sum(x.confidence_count) AS confidence_count, sum(x.users) AS users,
           sum(x.items) AS items{INTENSITY_CHANGE_SUMS}
    FROM (SELECT {CG}, sign AS occurrences, coalesce(sign * intensity, 0) AS intensity_sum,
                 CASE WHEN intensity IS NOT NULL THEN sign ELSE 0 END AS intensity_count,
                 coalesce(sign * confidence_score, 0) AS confidence_sum,
                 CASE WHEN confidence_score IS NOT NULL THEN sign ELSE 0 END
                     AS confidence_count,
                 0 AS users, 0 AS items,
                 {INTENSITY_CHANGES}
          FROM pg_temp.flavatix_delta
          UNION ALL SELECT {CG}, 0, 0, 0, 0, 0, 1, 0{NO_INTENSITIES} FROM pg_temp.flavatix_users_new
          UNION ALL SELECT {CG}, 0, 0, 0, 0, 0, -1, 0{NO_INTENSITIES}
          FROM pg_temp.flavatix_users_old
          UNION ALL SELECT {CG}, 0, 0, 0, 0, 0, 0, shift{NO_INTENSITIES}
          FROM pg_temp.flavatix_shift_items) x
    GROUP BY {CG}
), written AS (
    INSERT INTO public.mv_refresh_groups AS g
        ({CG}, {GROUP_SUMS}, users, items, last_used_at, {columns(INTENSITY_COUNTS)})
    SELECT {columns(CG_KEY, "c")}, c.occurrences, c.intensity_sum, c.intensity_count,
           c.confidence_sum, c.confidence_count, c.users, c.items,
           {kept_extreme("max", "last_used_at", "lost_at", "new_at", CG_KEY)},
           {columns(INTENSITY_COUNTS, "c")}
    FROM change c
    LEFT JOIN moved m ON {same("m", "c", CG_KEY)}
    LEFT JOIN public.mv_refresh_groups cur ON {same("cur", "c", CG_KEY)}
    ON CONFLICT ({key_expressions(CG_KEY)}) DO UPDATE
    SET occurrences = g.occurrences + excluded.occurrences,
        intensity_sum = g.intensity_sum + excluded.intensity_sum,
        intensity_count = g.intensity_count + excluded.intensity_count,
        -- 0 as a build from scratch writes it once no score is left (not 0.00).
        confidence_sum = CASE WHEN g.confidence_count + excluded.confidence_count = 0 THEN 0
                              ELSE g.confidence_sum + excluded.confidence_sum END,
        confidence_count = g.confidence_count + excluded.confidence_count,
        users = g.users + excluded.users,
        items = g.items + excluded.items,
        last_used_at = excluded.last_used_at,
        {INTENSITY_UPSERT}
    RETURNING {columns(CG_KEY, "g")}, g.occurrences, g.users, g.items)
INSERT INTO pg_temp.flavatix_groups_emptied
SELECT {CG} FROM written WHERE occurrences = 0 AND users = 0 AND items = 0;
-- Users per (form, type, category, subcategory) move the same way; the
-- smallest row id is read again from its users only when the one it had went.
WITH moved AS (
    SELECT {G}, min(lost_sample) AS lost_sample, min(new_sample) AS new_sample
    FROM pg_temp.flavatix_users_moved GROUP BY {G}
), change AS (
    SELECT {G}, sum(x.n) AS users
    FROM (SELECT {G}, count(DISTINCT user_id) AS n FROM pg_temp.flavatix_users_new GROUP BY {G}
          UNION ALL
          SELECT {G}, -count(DISTINCT user_id) FROM pg_temp.flavatix_users_old GROUP BY {G}) x
    GROUP BY {G}
)
INSERT INTO public.mv_refresh_global_groups AS g ({G}, users, sample_id)
SELECT {columns(G_KEY, "c")}, c.users,
       {kept_extreme("min", "sample_id", "lost_sample", "new_sample", G_KEY)}
FROM change c
LEFT JOIN moved m ON {same("m", "c", G_KEY)}
LEFT JOIN public.mv_refresh_global_groups cur ON {same("cur", "c", G_KEY)}
ON CONFLICT ({key_expressions(G_KEY)}) DO UPDATE
SET users = g.users + excluded.users, sample_id = excluded.sample_id;
{temp_from("flavatix_groups_changed", "pg_temp.flavatix_users_new", "DISTINCT " + CG)}
INSERT INTO pg_temp.flavatix_groups_changed
SELECT DISTINCT {CG} FROM (SELECT {CG} FROM pg_temp.flavatix_delta
                           UNION ALL SELECT {CG} FROM pg_temp.flavatix_users_old
                           UNION ALL SELECT {CG} FROM pg_temp.flavatix_users_new) x;
{temp_from("flavatix_global_changed", "pg_temp.flavatix_groups_changed", G)}
INSERT INTO pg_temp.flavatix_global_changed
SELECT DISTINCT {G} FROM pg_temp.flavatix_groups_changed;
-- Temporary tables have no statistics until analyzed: joins need them.
ANALYZE pg_temp.flavatix_groups_changed ({CG});
ANALYZE pg_temp.flavatix_global_changed ({G});
DELETE FROM public.mv_refresh_global_groups g USING pg_temp.flavatix_global_changed k
WHERE {same("g", "k", G_KEY)} AND g.users = 0;
DELETE FROM public.mv_refresh_groups g USING pg_temp.flavatix_groups_emptied k
WHERE {same("g", "k", CG_KEY)} AND g.occurrences = 0 AND g.users = 0 AND g.items = 0;
{temp_from("flavatix_category_fresh", "public.mv_category_descriptor_summary")}
INSERT INTO pg_temp.flavatix_category_fresh
SELECT g.item_category, g.descriptor_type, g.category, g.subcategory, g.normalized_form,
       (SELECT t.descriptor_text FROM public.mv_refresh_group_texts t
        WHERE {same("t", "g", CG_KEY)}
        ORDER BY t.occurrences DESC, t.descriptor_text LIMIT 1),
       g.occurrences, g.users,
       round(g.intensity_sum::numeric / nullif(g.intensity_count, 0), 2),
       round(g.confidence_sum / nullif(g.confidence_count, 0), 3),
       {GROUP_MEDIAN},
       CASE WHEN g.intensity_count > 0 THEN g.intensity_sum END, g.intensity_count, g.items,
       g.last_used_at
FROM pg_temp.flavatix_groups_changed k
JOIN public.mv_refresh_groups g ON {same("g", "k", CG_KEY)}
WHERE g.occurrences > 0;
{WRITE_CATEGORY}
{temp_from("flavatix_global_fresh", "public.mv_global_descriptor_stats")}
INSERT INTO pg_temp.flavatix_global_fresh
SELECT k.descriptor_type, k.category, k.subcategory, k.normalized_form,
       (SELECT t.descriptor_text FROM public.mv_refresh_group_texts t
        WHERE {same("t", "k", G_KEY)}
        GROUP BY t.descriptor_text ORDER BY sum(t.occurrences) DESC, t.descriptor_text LIMIT 1),
       s.occurrences, gg.users,
       round(s.intensity_sum / nullif(s.intensity_count, 0), 2),
       round(s.confidence_sum / nullif(s.confidence_count, 0), 3),
       {GLOBAL_MEDIAN},
       CASE WHEN s.intensity_count > 0 THEN s.intensity_sum END, s.intensity_count, s.breadth,
       s.last_used_at
FROM pg_temp.flavatix_global_changed k
CROSS JOIN LATERAL (
    SELECT sum(g.occurrences) AS occurrences, sum(g.intensity_sum) AS intensity_sum,
           sum(g.intensity_count) AS intensity_count, sum(g.confidence_sum) AS confidence_sum,
           sum(g.confidence_count) AS confidence_count,
           count(*) FILTER (WHERE g.item_category IS NOT NULL) AS breadth,
           max(g.last_used_at) AS last_used_at{INTENSITY_SUMS}
    FROM public.mv_refresh_groups g
    WHERE {same("g", "k", G_KEY)} AND g.occurrences > 0) s
JOIN public.mv_refresh_global_groups gg ON {same("gg", "k", G_KEY)}
WHERE s.occurrences > 0;
{WRITE_GLOBAL}
{temp_from("flavatix_search_fresh", "public.mv_descriptor_search")}
INSERT INTO pg_temp.flavatix_search_fresh
    (normalized_form, descriptor_type, category, subcategory, descriptor_text, usage_count,
     sample_id, unique_users)
SELECT s.normalized_form, s.descriptor_type, s.category, s.subcategory, s.descriptor_text,
       s.total_occurrences, gg.sample_id::uuid, s.unique_users
FROM pg_temp.flavatix_global_fresh s
JOIN public.mv_refresh_global_groups gg ON {same("gg", "s", G_KEY)};
{WRITE_SEARCH}"""

# A per-form summary row's key and what a wheel row reads of it.
SUMMARY_KEYS = (
    "user_id, descriptor_type, category, subcategory, normalized_form, descriptor_text, "
    "occurrence_count, intensity_sum, intensity_count"
)
TYPE_COUNTS = ("aroma", "flavor", "texture", "defect", "metaphor", "mouthfeel")
TYPE_COUNT_SUMS = ",\n    ".join(
    f"{t}_count = w.{t}_count + excluded.{t}_count" for t in TYPE_COUNTS
)

# The per-form summary has one user, form and type per group: the refresh
# recomputes the changed (user, form, type) keys from their rows (each key one
# probe of the (user_id, normalized_form, descriptor_type) index), with the
# query that builds the whole summary.
KEY_ROWS_SUMMARY = (
    VIEWS["mv_user_descriptor_summary"]
    .replace("FROM public.flavor_descriptors", "FROM pg_temp.flavatix_key_rows")
    .strip()
)
USER_SUMMARY_KEY = ("user_id", "descriptor_type", "category", "subcategory", "normalized_form")
USER_SUMMARY_VALUES = (
    "descriptor_text", "occurrence_count", "avg_intensity", "avg_confidence", "intensity_sum",
    "intensity_count", "source_count", "item_count", "item_categories", "first_used_at",
    "last_used_at", "any_ai_extracted",
)  # fmt: skip
WRITE_USER_SUMMARY = rewrite_read_rows(
    "mv_user_descriptor_summary",
    "pg_temp.flavatix_summary_old",
    "pg_temp.flavatix_summary_new",
    USER_SUMMARY_KEY,
    USER_SUMMARY_VALUES,
)
# Per user: the per-form summary recomputed by changed (user, form, type), its
# old and new rows kept; the generation stats brought up to date by adding
# the changes (distinct forms from those rows, sources and categories from
# their counters); the newest row read again only when a change removed it.
# A summary row is written only where it differs, as an update of columns no
# index holds (rewrite_read_rows) rather than a delete and an insert with an
# entry in each index.
INCREMENTAL_PER_USER = f"""
{read_key_rows("flavatix_summary_old", "mv_user_descriptor_summary")}
{temp_from("flavatix_summary_new", "public.mv_user_descriptor_summary")}
INSERT INTO pg_temp.flavatix_summary_new
{KEY_ROWS_SUMMARY};
ANALYZE pg_temp.flavatix_summary_old (user_id, normalized_form, descriptor_type);
ANALYZE pg_temp.flavatix_summary_new (user_id, normalized_form, descriptor_type);
{WRITE_USER_SUMMARY}
{temp_from("flavatix_user_delta", "public.mv_wheel_generation_stats")}
INSERT INTO pg_temp.flavatix_user_delta
SELECT d.user_id, d.total, coalesce(f.shift, 0), {", ".join(f"d.{t}" for t in TYPE_COUNTS)},
       coalesce(src.shift, 0), coalesce(cat.shift, 0), d.newest, d.ai, d.keyword
FROM (SELECT user_id, sum(sign) AS total,
             {
    ", ".join(
        f"coalesce(sum(sign) FILTER (WHERE descriptor_type = '{t}'), 0) AS {t}" for t in TYPE_COUNTS
    )
},
             max(created_at) FILTER (WHERE sign = 1) AS newest,
             coalesce(sum(sign) FILTER (WHERE ai_extracted), 0) AS ai,
             coalesce(sum(sign) FILTER (WHERE NOT ai_extracted), 0) AS keyword
      FROM pg_temp.flavatix_delta GROUP BY user_id) d
LEFT JOIN (SELECT x.user_id, sum(x.n) AS shift
           FROM (SELECT user_id, count(DISTINCT (normalized_form, descriptor_type)) AS n
                 FROM pg_temp.flavatix_summary_new GROUP BY user_id
                 UNION ALL
                 SELECT user_id, -count(DISTINCT (normalized_form, descriptor_type))
                 FROM pg_temp.flavatix_summary_old GROUP BY user_id) x
           GROUP BY x.user_id) f ON f.user_id = d.user_id
LEFT JOIN pg_temp.flavatix_shift_sources src ON src.user_id = d.user_id
LEFT JOIN pg_temp.flavatix_shift_categories cat ON cat.user_id = d.user_id;
INSERT INTO public.mv_wheel_generation_stats AS w
SELECT * FROM pg_temp.flavatix_user_delta
ON CONFLICT (user_id) DO UPDATE
SET total_descriptors = w.total_descriptors + excluded.total_descriptors,
    unique_descriptors = w.unique_descriptors + excluded.unique_descriptors,
    {TYPE_COUNT_SUMS},
    source_count = w.source_count + excluded.source_count,
    category_count = w.category_count + excluded.category_count,
    latest_descriptor_at = greatest(w.latest_descriptor_at, excluded.latest_descriptor_at),
    ai_extracted_count = w.ai_extracted_count + excluded.ai_extracted_count,
    keyword_count = w.keyword_count + excluded.keyword_count;
UPDATE public.mv_wheel_generation_stats w
SET latest_descriptor_at = (SELECT max(d.created_at) FROM public.flavor_descriptors d
                            WHERE d.user_id = w.user_id)
FROM (SELECT user_id, max(created_at) AS removed FROM pg_temp.flavatix_delta
      WHERE sign = -1 GROUP BY user_id) r
WHERE w.user_id = r.user_id AND r.removed >= w.latest_descriptor_at;
DELETE FROM public.mv_wheel_generation_stats w USING pg_temp.flavatix_user_delta u
WHERE w.user_id = u.user_id AND w.total_descriptors = 0;"""

WHEEL_TYPES = """CROSS JOIN LATERAL (VALUES (x.descriptor_type),
                           (CASE WHEN x.descriptor_type IN ('aroma', 'flavor')
                                 THEN 'combined' END)) AS w (wheel_type)"""
_ranked = WHEEL_VIEW_BODY[WHEEL_VIEW_BODY.index("), ranked AS (") :]
_wheels_start = _ranked.index("), wheels AS (")
_wheels_end = _ranked.index(")\nSELECT t.user_id")
# The wheel rows of the changed (user, wheel type, category, subcategory)
# keys of users who stay heavy: the forms of each key by one range of
# ix_mv_user_descriptor_summary_wheel per type, grouped as WHEEL_VIEW_BODY
# groups them, and each wheel's distinct forms as counted beforehand
# (flavatix_wheel_uniques).
WHEEL_KEYED_BODY = (
    """WITH forms AS (
    SELECT s.user_id, k.wheel_type COLLATE "C" AS wheel_type,
           k.category COLLATE "C" AS category,
           k.subcategory COLLATE "C" AS subcategory,
           s.normalized_form COLLATE "C" AS normalized_form,
"""
    + WHEEL_FORM_AGGREGATES
    + """
    FROM pg_temp.flavatix_wheel_keys k
    JOIN (VALUES ('aroma', 'aroma'), ('flavor', 'flavor'), ('metaphor', 'metaphor'),
                 ('combined', 'aroma'), ('combined', 'flavor')) AS m (wheel_type, descriptor_type)
      ON m.wheel_type = k.wheel_type
    JOIN public.mv_user_descriptor_summary s
      ON s.user_id = k.user_id AND s.descriptor_type = m.descriptor_type
     AND coalesce(s.category, 'Uncategorized') = k.category
     AND coalesce(s.subcategory, 'General') = k.subcategory
    GROUP BY 1, 2, 3, 4, 5
"""
    + _ranked[:_wheels_start]
    # The rows written carry no count: it is put on each wheel's first row after.
    + "), wheels AS (\n    SELECT u.user_id, u.wheel_type, NULL::bigint AS unique_descriptors"
    "\n    FROM pg_temp.flavatix_wheel_uniques u\n" + _ranked[_wheels_end:]
)

WHEEL_REBUILD_BODY = WHEEL_VIEW_BODY.replace(
    "{heavy_filter}", "\n      AND s.user_id = ANY (v_rebuild)"
).strip()
# A user who became heavy or stopped being heavy is rebuilt (or removed)
# whole; a heavy user's wheels get only the changed subcategories again, and
# their distinct-form counts where those changed.
INCREMENTAL_WHEEL = f"""
SELECT array_agg(u.user_id) FILTER (WHERE u.heavy IS DISTINCT FROM u.had),
       array_agg(u.user_id) FILTER (WHERE u.heavy AND u.had)
  INTO v_rebuild, v_keyed
FROM (SELECT d.user_id,
             coalesce(g.aroma_count + g.flavor_count + g.metaphor_count
                      >= {WHEEL_VIEW_MIN_ROWS}, false) AS heavy,
             EXISTS (SELECT FROM public.{WHEEL_VIEW} w WHERE w.user_id = d.user_id) AS had
      FROM (SELECT DISTINCT user_id FROM pg_temp.flavatix_delta) d
      LEFT JOIN public.mv_wheel_generation_stats g ON g.user_id = d.user_id) u;
DELETE FROM public.{WHEEL_VIEW} WHERE user_id = ANY (v_rebuild);
INSERT INTO public.{WHEEL_VIEW}
{WHEEL_REBUILD_BODY};
-- Only the subcategories where a form's row changed (a changed key's rows in
-- other subcategories come back the same).
DROP TABLE IF EXISTS pg_temp.flavatix_wheel_keys;
CREATE TEMP TABLE flavatix_wheel_keys ON COMMIT DROP AS
SELECT DISTINCT x.user_id, w.wheel_type, coalesce(x.category, 'Uncategorized') AS category,
       coalesce(x.subcategory, 'General') AS subcategory
FROM ((SELECT {SUMMARY_KEYS} FROM pg_temp.flavatix_summary_old
       EXCEPT SELECT {SUMMARY_KEYS} FROM pg_temp.flavatix_summary_new)
      UNION ALL
      (SELECT {SUMMARY_KEYS} FROM pg_temp.flavatix_summary_new
       EXCEPT SELECT {SUMMARY_KEYS} FROM pg_temp.flavatix_summary_old)) x
{WHEEL_TYPES}
WHERE x.user_id = ANY (v_keyed) AND x.descriptor_type IN ('aroma', 'flavor', 'metaphor')
  AND w.wheel_type IS NOT NULL;
-- How many distinct forms each changed wheel gained or lost. A form is in a
-- wheel while the user has a row of it of one of the wheel's types: a
-- changed (user, form, type) key says so by its rows before and after, a
-- type whose key did not change says the same on both sides (its counts).
DROP TABLE IF EXISTS pg_temp.flavatix_shift_wheel_forms;
CREATE TEMP TABLE flavatix_shift_wheel_forms ON COMMIT DROP AS
WITH present AS (
    SELECT user_id, normalized_form, descriptor_type,
           bool_or(before) AS had, bool_or(NOT before) AS has
    FROM (SELECT user_id, normalized_form, descriptor_type, true AS before
          FROM pg_temp.flavatix_summary_old
          UNION ALL
          SELECT user_id, normalized_form, descriptor_type, false
          FROM pg_temp.flavatix_summary_new) x
    WHERE user_id = ANY (v_keyed) AND descriptor_type IN ('aroma', 'flavor', 'metaphor')
    GROUP BY user_id, normalized_form, descriptor_type
), per_wheel AS (
    SELECT x.user_id, w.wheel_type, x.normalized_form,
           bool_or(x.had) AS had, bool_or(x.has) AS has
    FROM present x
    {WHEEL_TYPES}
    WHERE w.wheel_type IS NOT NULL
    GROUP BY x.user_id, w.wheel_type, x.normalized_form
)
SELECT p.user_id, p.wheel_type,
       count(*) FILTER (WHERE p.has) - count(*) FILTER (WHERE p.had) AS shift
FROM per_wheel p
WHERE p.had <> p.has
  AND NOT (p.wheel_type = 'combined' AND EXISTS (
      SELECT FROM public.mv_refresh_group_users a
      WHERE a.normalized_form = p.normalized_form AND a.descriptor_type IN ('aroma', 'flavor')
        AND a.user_id = p.user_id
        AND NOT EXISTS (SELECT FROM present k
                        WHERE k.user_id = p.user_id AND k.normalized_form = p.normalized_form
                          AND k.descriptor_type = a.descriptor_type)))
GROUP BY p.user_id, p.wheel_type;
-- A wheel's distinct forms: what it had (on its first row), plus those it
-- gained, less those it lost.
DROP TABLE IF EXISTS pg_temp.flavatix_wheel_uniques;
CREATE TEMP TABLE flavatix_wheel_uniques ON COMMIT DROP AS
SELECT k.user_id, k.wheel_type,
       coalesce(p.unique_descriptors, 0) + coalesce(f.shift, 0) AS unique_descriptors,
       p.row_ctid AS old_first
FROM (SELECT DISTINCT user_id, wheel_type FROM pg_temp.flavatix_wheel_keys) k
LEFT JOIN LATERAL (SELECT w.unique_descriptors, w.ctid AS row_ctid FROM public.{WHEEL_VIEW} w
                   WHERE w.user_id = k.user_id AND w.wheel_type = k.wheel_type
                   ORDER BY w.category, w.subcategory LIMIT 1) p ON true
LEFT JOIN pg_temp.flavatix_shift_wheel_forms f
       ON f.user_id = k.user_id AND f.wheel_type = k.wheel_type;
DELETE FROM public.{WHEEL_VIEW} w USING pg_temp.flavatix_wheel_keys k
WHERE w.user_id = k.user_id AND w.wheel_type = k.wheel_type AND w.category = k.category
  AND w.subcategory = k.subcategory;
INSERT INTO public.{WHEEL_VIEW}
{WHEEL_KEYED_BODY.strip()};
-- Each changed wheel's count on its first row, now, and off the row that
-- was first before, if that is another one still there (a row this refresh
-- deleted is not seen; its place is not reused before commit).
WITH firsts AS MATERIALIZED (
    SELECT u.unique_descriptors, u.old_first, r.first_row
    FROM pg_temp.flavatix_wheel_uniques u
    CROSS JOIN LATERAL (SELECT x.ctid AS first_row FROM public.{WHEEL_VIEW} x
                        WHERE x.user_id = u.user_id AND x.wheel_type = u.wheel_type
                        ORDER BY x.category, x.subcategory LIMIT 1) r
), counts AS (
    SELECT f.first_row AS row_ctid, f.unique_descriptors FROM firsts f
    UNION ALL
    SELECT f.old_first, NULL FROM firsts f WHERE f.old_first <> f.first_row
)
UPDATE public.{WHEEL_VIEW} w SET unique_descriptors = c.unique_descriptors
FROM counts c
WHERE w.ctid = c.row_ctid AND w.unique_descriptors IS DISTINCT FROM c.unique_descriptors;"""

SEARCH_TABLES = (
    "mv_descriptor_search",
    "mv_descriptor_search_shared",
    "mv_descriptor_search_forms",
    "mv_descriptor_search_prefixes",
    "mv_descriptor_search_pairs",
    "mv_descriptor_search_pair_users",
    "mv_descriptor_search_user_pairs",
)
FULL_SUMMARIES = "\n".join(
    f"DELETE FROM public.{name};\n"
    f"INSERT INTO public.{name}\n{summary_in_key_order(name, body.strip())};"
    for name, body in SUMMARY_TABLES.items()
    if name not in BUILT_WITH_COUNTS
) + (
    # Statistics for the tables just rewritten: the next refresh's plans join
    # them by key, and without statistics (autovacuum comes later) chose
    # scans that took seconds.
    "\nANALYZE " + ", ".join(f"public.{name}" for name in (*COUNT_TABLES, *SUMMARY_TABLES)) + ";"
)


def indented(sql: str) -> str:
    return textwrap.indent(sql.strip(), " " * 8)


TEMP_STATISTICS_TARGET = 10
# Changes are taken off mv_refresh_changes by the DELETE that reads them, in
# the refresh's transaction: rows written meanwhile (not yet committed) stay
# for the next refresh, and a failed refresh rolls the delete back. Writers
# only append, so they never wait on a refresh in progress. The counts and
# the aggregates over all users get the changes added (INCREMENTAL_COUNTS),
# the per-user summaries the changed (user, form, type) groups recomputed
# from the table, then revision 002's flavatix_refresh_search() the search
# tables built on mv_descriptor_search; readers see the old rows until
# commit. p_full rebuilds everything from the table (repair, or after changes
# that bypassed the triggers); so does a refresh while a table's
# last_refreshed_at is NULL (never built, or filled before tracking began).
CREATE_REFRESH = f"""
CREATE OR REPLACE FUNCTION public.refresh_descriptor_views(p_full boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_changes bigint;
    v_users uuid[];
    v_forms text[];
    v_key_users uuid[];
    v_key_forms text[];
    v_key_types text[];
    v_rebuild uuid[];
    v_keyed uuid[];
    v_full boolean;
    v_full_search boolean;
    v_statistics_target constant text := pg_catalog.current_setting('default_statistics_target');
    v_jit constant text := pg_catalog.current_setting('jit');
BEGIN
    IF p_full IS NULL THEN
        RAISE EXCEPTION 'refresh_descriptor_views: p_full must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- One refresh at a time; a second one waits and then sees what is left.
    PERFORM pg_catalog.pg_advisory_xact_lock({REFRESH_LOCK_KEY});
    v_full_search := p_full OR EXISTS (
        SELECT FROM public.mv_refresh_log
        WHERE last_refreshed_at IS NULL AND view_name = ANY (ARRAY{list(SEARCH_TABLES)}));
    v_full := p_full OR EXISTS (
        SELECT FROM public.mv_refresh_log
        WHERE last_refreshed_at IS NULL AND view_name <> ALL (ARRAY{list(SEARCH_TABLES)}))
        OR {COUNTS_LOST};
    IF v_full THEN
{indented(FULL_COUNTS)}
        PERFORM public.flavatix_refresh_search(NULL, NULL, true, NULL, NULL, NULL, false);
{indented(FULL_SUMMARIES)}
    ELSE
{indented(TAKE_CHANGES)}
        IF v_changes > 0 THEN
            -- The temporary tables below are analyzed for the sizes and
            -- distinct keys their joins are planned by; a sample of
            -- {TEMP_STATISTICS_TARGET * 300} rows tells those, in a quarter of the time of the
            -- default. Until the end of the incremental steps only, and no
            -- JIT: their plans are costed from those few rows' estimates, and
            -- compiling one took longer than running it (at ten million rows,
            -- 32 ms of the 44 ms rebuild of the wheels of users who crossed
            -- the heavy line).
            PERFORM pg_catalog.set_config('default_statistics_target',
                                          '{TEMP_STATISTICS_TARGET}', true);
            PERFORM pg_catalog.set_config('jit', 'off', true);
            -- Statistics of the keys the changes are grouped and joined by.
            ANALYZE pg_temp.flavatix_delta (user_id, {CG});
            WITH keys AS (SELECT DISTINCT user_id, normalized_form, descriptor_type
                          FROM pg_temp.flavatix_delta)
            SELECT (SELECT array_agg(DISTINCT k.user_id) FROM keys k),
                   (SELECT array_agg(DISTINCT k.normalized_form) FROM keys k),
                   array_agg(k.user_id ORDER BY k.user_id, k.normalized_form, k.descriptor_type),
                   array_agg(k.normalized_form
                             ORDER BY k.user_id, k.normalized_form, k.descriptor_type),
                   array_agg(k.descriptor_type
                             ORDER BY k.user_id, k.normalized_form, k.descriptor_type)
              INTO v_users, v_forms, v_key_users, v_key_forms, v_key_types
              FROM keys k;
{indented(INCREMENTAL_COUNTS)}
{indented(INCREMENTAL_PER_USER)}
{indented(INCREMENTAL_WHEEL)}
            PERFORM pg_catalog.set_config('default_statistics_target', v_statistics_target, true);
            PERFORM pg_catalog.set_config('jit', v_jit, true);
        END IF;
        IF v_full_search OR v_changes > 0 THEN
            -- mv_descriptor_search itself is up to date (INCREMENTAL_COUNTS).
            PERFORM public.flavatix_refresh_search(v_users, v_forms, v_full_search,
                                                   v_key_users, v_key_forms, v_key_types,
                                                   true);
        END IF;
    END IF;
    UPDATE public.mv_refresh_log SET last_refreshed_at = clock_timestamp();
END;
$$;

REVOKE ALL ON FUNCTION public.refresh_descriptor_views(boolean) FROM PUBLIC;
"""

# Registered like the other views, so refresh_descriptor_views() refreshes it
# and the change counters count for it; closed to the API roles like them.
REGISTER_WHEEL_VIEW = f"""
INSERT INTO public.mv_refresh_log (view_name, last_refreshed_at)
VALUES ('{WHEEL_VIEW}', now())
ON CONFLICT (view_name) DO NOTHING;

REVOKE ALL ON public.{WHEEL_VIEW} FROM PUBLIC;

COMMENT ON TABLE public.{WHEEL_VIEW} IS
    'Per user, wheel type and subcategory: count, top {WHEEL_TOP_N} descriptors as wheel JSON, '
    'distinct forms of the wheel (on its first row); read by flavatix_wheel_json(). Kept up '
    'to date by refresh_descriptor_views().';

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r);
        EXECUTE format('REVOKE ALL ON public.%I FROM %I', '{WHEEL_VIEW}', r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavatix_wheel_json_from_forms(text, uuid, '
                       'text, text[], integer, integer) FROM %I', r);
    END LOOP;
END;
$$;
"""

# The wheel JSON of one scope (see flavatix_wheel_json_from_forms for what it
# holds). A personal wheel of one of the four wheel types with p_min_count 1
# and at most WHEEL_TOP_N descriptors per subcategory is assembled from
# mv_user_wheel_subcategories when the view holds the user; everything else is
# built from the forms. The assembly below repeats the reference's categories,
# totals and percentages step for step on the subcategory rows, and tests
# compare the two paths' JSON text. PL/pgSQL so that the statement's plan is
# kept for the session.
CREATE_WHEEL_JSON = f"""
CREATE OR REPLACE FUNCTION public.flavatix_wheel_json(
    p_scope text, p_user_id uuid, p_item_category text, p_types text[],
    p_min_count integer, p_max_per_subcategory integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    v_wheel text;
    result jsonb;
BEGIN
    SELECT t.wheel INTO v_wheel
    FROM (VALUES ('combined', ARRAY['aroma', 'flavor']), ('aroma', ARRAY['aroma']),
                 ('flavor', ARRAY['flavor']), ('metaphor', ARRAY['metaphor'])) AS t (wheel, types)
    WHERE p_types <@ t.types AND p_types @> t.types;
    IF p_scope IS DISTINCT FROM 'personal' OR v_wheel IS NULL OR p_min_count IS NULL
       OR p_min_count > 1 OR p_max_per_subcategory IS NULL OR p_max_per_subcategory < 1
       OR p_max_per_subcategory > {WHEEL_TOP_N} THEN
        RETURN public.flavatix_wheel_json_from_forms(
            p_scope, p_user_id, p_item_category, p_types, p_min_count, p_max_per_subcategory);
    END IF;

    WITH subs AS (
        SELECT w.category AS cat, w.subcategory AS sub, w.descriptor_count AS n,
               w.unique_descriptors,
               -- top_descriptors is NULL where form_count <= WHEEL_FIRST_N, and
               -- is only read where form_count is larger.
               CASE WHEN p_max_per_subcategory >= w.form_count
                        THEN CASE WHEN w.form_count <= {WHEEL_FIRST_N} THEN w.first_descriptors
                                  ELSE w.top_descriptors END
                    WHEN p_max_per_subcategory = {WHEEL_FIRST_N} THEN w.first_descriptors
                    ELSE jsonb_path_query_array(
                             CASE WHEN p_max_per_subcategory < {WHEEL_FIRST_N}
                                  THEN w.first_descriptors ELSE w.top_descriptors END,
                             '$[0 to $last]',
                             jsonb_build_object('last', p_max_per_subcategory - 1))
               END AS descriptors
        FROM public.{WHEEL_VIEW} w
        WHERE w.user_id = p_user_id AND w.wheel_type = v_wheel
{wheel_assembly("(SELECT max(s.unique_descriptors) FROM subs s)", 4)}
    WHERE EXISTS (SELECT FROM subs)
    INTO result;
    -- No row: a light user (not held by the view) or an empty wheel; the
    -- per-form path answers both quickly.
    RETURN coalesce(result, public.flavatix_wheel_json_from_forms(
        p_scope, p_user_id, p_item_category, p_types, p_min_count, p_max_per_subcategory));
END;
$$;

REVOKE ALL ON FUNCTION public.flavatix_wheel_json(text, uuid, text, text[], integer, integer)
    FROM PUBLIC;
"""

CREATE_GENERATE_WHEEL = """
CREATE OR REPLACE FUNCTION public.generate_wheel_data_optimized(
    p_user_id uuid,
    p_wheel_type text DEFAULT 'combined',
    p_min_count integer DEFAULT 1,
    p_max_per_subcategory integer DEFAULT 10)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'generate_wheel_data_optimized';
    uid uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_wheel_type IS NULL OR p_wheel_type NOT IN ('aroma', 'flavor', 'combined', 'metaphor') THEN
        RAISE EXCEPTION '%: p_wheel_type must be one of aroma, flavor, combined, metaphor, not %',
                        fn, coalesce(p_wheel_type, 'NULL')
            USING ERRCODE = CASE WHEN p_wheel_type IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    PERFORM public.flavatix_check_limit(fn, 'p_min_count', p_min_count, 2147483647);
    uid := public.flavatix_caller_user(p_user_id, fn);
    RETURN public.flavatix_wheel_json(
        'personal', uid, NULL,
        CASE WHEN p_wheel_type = 'combined' THEN ARRAY['aroma', 'flavor']
             ELSE ARRAY[p_wheel_type] END,
        p_min_count,
        public.flavatix_check_limit(fn, 'p_max_per_subcategory', p_max_per_subcategory, 100));
END;
$$;
"""

DROP_OBJECTS = """
DROP TRIGGER IF EXISTS flavor_descriptors_count_inserts ON public.flavor_descriptors;
DROP TRIGGER IF EXISTS flavor_descriptors_count_updates ON public.flavor_descriptors;
DROP TRIGGER IF EXISTS flavor_descriptors_count_deletes ON public.flavor_descriptors;
-- Each object dropped here is this revision's own; callers of the parent
-- revision never had it.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavor_descriptors_count_changes();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavor_descriptors_count_insert();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.generate_wheel_data_optimized(uuid, text, integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_wheel_json(text, uuid, text, text[], integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_wheel_json_from_forms(
    text, uuid, text, text[], integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.should_refresh_views(integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refresh_descriptor_views(boolean);
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS public.mv_refresh_status;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_refresh_changes;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_refresh_log;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_user_wheel_subcategories;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_wheel_generation_stats;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_category_descriptor_summary;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_global_descriptor_stats;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_user_descriptor_summary;
""" + "".join(
    f"-- squawk-ignore ban-drop-table\nDROP TABLE IF EXISTS public.{name};\n"
    for name in COUNT_TABLES
)


# The summary functions run as their caller. On Supabase the aggregates over
# all users (and when each summary was refreshed) are readable by anon and
# authenticated; the per-user summaries by authenticated, each user only their
# own rows (row level security). Left SECURITY DEFINER, and not executable by
# anon or authenticated: the two change-tracking trigger functions (writers
# may not append to mv_refresh_changes themselves; a trigger needs no EXECUTE
# grant to fire), refresh_descriptor_views() and should_refresh_views()
# (maintenance, run by the owner or service_role, which read and rewrite the
# bookkeeping no API role may touch).
API_ACCESS = f"""
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavor_descriptors_count_changes() '
                       'FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavor_descriptors_count_insert() '
                       'FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.should_refresh_views(integer) FROM %I', r);
    END LOOP;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT EXECUTE ON FUNCTION public.should_refresh_views(integer) TO service_role;
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION public.should_refresh_views(integer) FROM PUBLIC;
-- Enabling it again is harmless, so a re-run is safe.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.mv_refresh_log ENABLE ROW LEVEL SECURITY;
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.mv_refresh_changes ENABLE ROW LEVEL SECURITY;

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
    FOREACH t IN ARRAY ARRAY[
        'mv_global_descriptor_stats',
        'mv_category_descriptor_summary',
        'mv_refresh_log'
    ] LOOP
        EXECUTE format('GRANT SELECT ON public.%I TO anon, authenticated', t);
        EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t || '_read', t);
        EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO anon, authenticated '
                       'USING (%s)', t || '_read', t,
                       CASE WHEN t = 'mv_refresh_log' THEN 'true'
                            ELSE 'unique_users >= {SHARED_MIN_USERS}' END);
    END LOOP;
    IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY[
        'mv_user_descriptor_summary',
        'mv_wheel_generation_stats',
        'mv_user_wheel_subcategories'
    ] LOOP
        -- anon too: no policy lets it see a row, and functions that read
        -- aggregates in the same statement (wheels) still run for it.
        EXECUTE format('GRANT SELECT ON public.%I TO anon, authenticated', t);
        EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t || '_read_own', t);
        EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO authenticated '
                       'USING (user_id = (SELECT auth.uid()))', t || '_read_own', t);
    END LOOP;
    -- The wheel builders read only what row level security lets the caller see.
    GRANT EXECUTE ON FUNCTION public.flavatix_wheel_json(text, uuid, text, text[], integer,
                                                         integer) TO anon, authenticated;
    GRANT EXECUTE ON FUNCTION public.flavatix_wheel_json_from_forms(text, uuid, text, text[],
                                                                    integer, integer)
        TO anon, authenticated;
END;
$$;
"""


def execute_without_timeout(sql: str) -> None:
    """Run a long but non-blocking statement (view population, index build)."""
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


# The summary tables bypass nothing: row level security is on, and only their
# owner (the refresh and the SECURITY DEFINER readers) reads them.
SECURE_SUMMARY_TABLES = "\n".join(
    f"REVOKE ALL ON public.{name} FROM PUBLIC;\n"
    "-- Enabling it again is harmless, so a re-run is safe.\n"
    "-- squawk-ignore prefer-robust-stmts\n"
    f"ALTER TABLE public.{name} ENABLE ROW LEVEL SECURITY;"
    for name in SUMMARY_TABLES
)


# Summaries the refresh updates in place (the per-form summary's changed rows,
# write_changes, the generation stats' sums, the wheels' distinct counts): see
# IN_PLACE_FILLFACTOR.
UPDATED_IN_PLACE = {
    "mv_user_descriptor_summary",
    "mv_global_descriptor_stats",
    "mv_category_descriptor_summary",
    "mv_wheel_generation_stats",
    WHEEL_VIEW,
}

# What the refresh finds a changed group's rows by (see same()), and a
# changed wheel subcategory's forms by.
FORM_INDEXES = {
    "ix_mv_global_descriptor_stats_group": (
        "mv_global_descriptor_stats",
        f"({key_expressions(G_KEY)})",
    ),
    "ix_mv_category_descriptor_summary_group": (
        "mv_category_descriptor_summary",
        f"({key_expressions(CG_KEY)})",
    ),
    "ix_mv_user_descriptor_summary_wheel": (
        "mv_user_descriptor_summary",
        "(user_id, descriptor_type, (coalesce(category, 'Uncategorized')), "
        "(coalesce(subcategory, 'General')))",
    ),
}


def upgrade() -> None:
    """Create the summary tables with unique keys, change tracking, refresh and wheel functions."""
    ctx = op.get_context()
    op.execute(CREATE_STATUS)
    op.execute(CREATE_COUNT_TABLES)
    op.execute(CREATE_COUNT_INDEXES)
    # Recording starts before the tables are filled: a write committed after a
    # table's snapshot is recorded, and the first refresh recomputes its groups.
    # Creating the triggers waits for writers in flight, which the fill then sees.
    op.execute(CREATE_TRACKING)
    with ctx.autocommit_block():
        # Each reads the table under an ordinary snapshot: writers are not
        # blocked. The wheel table reads the per-form summary, filled first.
        for name, full in SUMMARY_TABLES.items():
            storage = (
                f" WITH (fillfactor = {IN_PLACE_FILLFACTOR})" if name in UPDATED_IN_PLACE else ""
            )
            execute_without_timeout(f"CREATE TABLE IF NOT EXISTS public.{name}{storage} AS {full}")
        for name, key in VIEW_KEYS.items():
            create_index_concurrently(
                f"ux_{name}_key", name, f"{key} NULLS NOT DISTINCT", unique=True
            )
        create_index_concurrently(f"ux_{WHEEL_VIEW}_key", WHEEL_VIEW, WHEEL_VIEW_KEY, unique=True)
        for name, (table, definition) in FORM_INDEXES.items():
            create_index_concurrently(name, table, definition, unique=False)
        for name in SUMMARY_TABLES:
            execute_without_timeout(f"ANALYZE public.{name}")
    op.execute(SECURE_SUMMARY_TABLES)
    op.execute(CREATE_REFRESH)
    op.execute(CREATE_SHOULD_REFRESH)
    op.execute(CREATE_WHEEL_JSON_FROM_FORMS)
    op.execute(CREATE_WHEEL_JSON)
    op.execute(REGISTER_WHEEL_VIEW)
    op.execute(CREATE_GENERATE_WHEEL)
    op.execute(REVOKE_FROM_API_ROLES)
    op.execute(API_ACCESS)


def downgrade() -> None:
    """Drop the summaries, their bookkeeping and functions; descriptor rows are untouched."""
    op.execute(DROP_OBJECTS)
