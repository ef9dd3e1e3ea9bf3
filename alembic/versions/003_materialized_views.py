"""Summaries: per-user, global and per-item-category, wheel generation; incremental refresh.

Revision ID: 003
Revises: 002
Create Date: 2026-11-29

The plan's four "materialized views" and the per-subcategory wheel summary
are tables under their planned names (mv_...), with the columns and unique
keys (NULLS NOT DISTINCT: a NULL category is a key too) the views had, kept up
to date by refresh_descriptor_views(). A materialized view can only be
recomputed whole; a table lets the refresh recompute only what changed.

Change tracking: triggers append to mv_refresh_changes one row per inserted
row, and one per updating or deleting statement (transition tables): the
number of rows changed and the users and normalized forms of their old and
new versions.
Appending instead of updating shared counters keeps concurrent writers from
waiting on each other. mv_refresh_status is a view over it and mv_refresh_log.

refresh_descriptor_views() takes off the change rows it can see and
recomputes, from the table, the per-user rows of those users and the global
and per-category rows of those forms (every row of a summary group has the
same user, or the same form), with the query that builds the whole summary,
so both give the same rows. refresh_descriptor_views(true) rebuilds every
group (repair). Revision 002's search views stay materialized views,
refreshed concurrently when anything changed (the pair view only when the set
of forms changed).

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
{where}GROUP BY user_id, descriptor_type, category, subcategory, normalized_form
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
{where}GROUP BY descriptor_type, category, subcategory, normalized_form
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
{where}GROUP BY item_category, descriptor_type, category, subcategory, normalized_form
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
{where}GROUP BY user_id
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

# What a summary row depends on: every row of one user, or every row of one
# normalized form (a global or per-category group never spans two forms).
# The refresh recomputes exactly the groups of the users and forms that
# changed, from the table, with the same query that builds the whole summary.
USER_FILTER = "WHERE user_id = ANY (v_users)\n"
FORM_FILTER = "WHERE normalized_form = ANY (v_forms)\n"
# The per-form summary is finer still: a group has one user, form and type,
# so only the changed (user, form, type) keys are recomputed, each by one probe
# of the (user_id, normalized_form, descriptor_type) index.
CHANGED_KEYS = "unnest(v_key_users, v_key_forms, v_key_types) AS k (u, f, t)"
KEY_FILTER = (
    "WHERE (user_id, normalized_form, descriptor_type) IN (SELECT k.u, k.f, k.t\n"
    f"    FROM {CHANGED_KEYS})\n"
)
KEYED_BY: dict[str, str] = {
    "mv_user_descriptor_summary": KEY_FILTER,
    "mv_global_descriptor_stats": FORM_FILTER,
    "mv_category_descriptor_summary": FORM_FILTER,
    "mv_wheel_generation_stats": USER_FILTER,
}


def summary_body(name: str, where: str = "") -> str:
    """The query of one summary; with ``where``, only the groups it selects."""
    return VIEWS[name].replace("{where}", where)


# What the API roles may read of other users' writing: groups at least this
# many users wrote (the same number as revision 002's shared vocabulary).
SHARED_MIN_USERS = 3

# Not readable or executable by the API roles: the views bypass row level
# security, the builder trusts its caller, refreshing is a maintenance job.
REVOKE_FROM_API_ROLES = """
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
                                   'mv_refresh_changes'] LOOP
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

CREATE_STATUS = """
CREATE TABLE IF NOT EXISTS public.mv_refresh_log (
    view_name text PRIMARY KEY,
    last_refreshed_at timestamptz
);

-- One row per inserted row, or per updating or deleting statement, appended
-- by the change-tracking triggers:
-- how many rows it changed, and each distinct (user, normalized form, type)
-- of those rows, old and new versions (three arrays, one entry per key):
-- the summary groups it may have changed.
-- Appending (never updating a shared counter row) keeps concurrent writers
-- from queueing behind each other's row locks until commit.
CREATE TABLE IF NOT EXISTS public.mv_refresh_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_rows bigint NOT NULL CHECK (changed_rows > 0),
    user_ids uuid[] NOT NULL,
    normalized_forms text[] NOT NULL,
    descriptor_types text[] NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.mv_refresh_log IS
    'When refresh_descriptor_views() last refreshed each descriptor view.';
COMMENT ON TABLE public.mv_refresh_changes IS
    'Rows changed (per inserted row, or per updating or deleting statement) since the last '
    'refresh, with their users, '
    'normalized forms and types; consumed by refresh_descriptor_views().';

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
"""

# Inserts are recorded per row: the common write is one INSERT of one row, and
# a row trigger appending one VALUES row costs it about a tenth, where a
# statement trigger aggregating its transition table cost it a quarter
# (measured with scripts/insert_cost.sql); a multi-row INSERT appends a row per
# row. Updates and deletes are recorded per statement with transition tables:
# an update records the users and forms of both versions of each row, since a
# row moved to another user or form changes the groups it left and the groups it
# joined. PostgreSQL allows a transition
# table only on a single-event trigger, hence two triggers on one function. On
# the partitioned table (revision 005) an UPDATE that moves a row to another
# month also fires the insert trigger on its new partition: that row is counted
# twice in changed_rows, and its groups recomputed once.
# SECURITY DEFINER because writers (authenticated on Supabase) may not touch
# mv_refresh_changes; a trigger function needs no EXECUTE grant to fire, so
# none is given to anyone.
CREATE_TRACKING = """
CREATE OR REPLACE FUNCTION public.flavor_descriptors_count_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    INSERT INTO public.mv_refresh_changes
        (changed_rows, user_ids, normalized_forms, descriptor_types)
    VALUES (1, ARRAY[NEW.user_id], ARRAY[NEW.normalized_form], ARRAY[NEW.descriptor_type]);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION public.flavor_descriptors_count_changes()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    -- One statement per branch: this runs after every updating or deleting statement.
    IF TG_OP = 'DELETE' THEN
        INSERT INTO public.mv_refresh_changes
            (changed_rows, user_ids, normalized_forms, descriptor_types)
        SELECT sum(k.n), array_agg(k.user_id), array_agg(k.normalized_form),
               array_agg(k.descriptor_type)
        FROM (SELECT r.user_id, r.normalized_form, r.descriptor_type, count(*) AS n
              FROM old_rows r GROUP BY 1, 2, 3) k
        HAVING count(*) > 0;
    ELSE
        INSERT INTO public.mv_refresh_changes
            (changed_rows, user_ids, normalized_forms, descriptor_types)
        SELECT sum(k.n), array_agg(k.user_id), array_agg(k.normalized_form),
               array_agg(k.descriptor_type)
        FROM (SELECT r.user_id, r.normalized_form, r.descriptor_type,
                     count(*) FILTER (WHERE r.is_new) AS n
              FROM (SELECT o.user_id, o.normalized_form, o.descriptor_type, false AS is_new
                    FROM old_rows o
                    UNION ALL
                    SELECT w.user_id, w.normalized_form, w.descriptor_type, true
                    FROM new_rows w) r
              GROUP BY 1, 2, 3) k
        HAVING count(*) > 0;
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
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.flavor_descriptors_count_changes();
DROP TRIGGER IF EXISTS flavor_descriptors_count_deletes ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_deletes
    AFTER DELETE ON public.flavor_descriptors
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.flavor_descriptors_count_changes();
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
        OR (SELECT coalesce(sum(changed_rows), 0) FROM public.mv_refresh_changes)
           >= p_threshold;
END;
$$;

"""

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
           (array_agg(s.descriptor_text ORDER BY s.occurrence_count DESC, s.descriptor_text))[1]
               AS label,
           sum(s.occurrence_count) AS n,
           sum(s.intensity_sum) AS isum,
           sum(s.intensity_count) AS icount
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
       t.unique_descriptors
FROM (
    SELECT r.user_id,
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
               FILTER (WHERE r.rn <= {WHEEL_TOP_N}) AS top_descriptors,
           min(w.unique_descriptors) AS unique_descriptors
    FROM ranked r
    JOIN wheels w ON w.user_id = r.user_id AND w.wheel_type = r.wheel_type
    GROUP BY r.user_id, r.wheel_type, r.category, r.subcategory
) t
"""
WHEEL_VIEW_KEY = "(user_id, wheel_type, category, subcategory)"
REFRESH_LOCK_KEY = 3003003  # pg_advisory_xact_lock key: one refresh at a time

# The summaries refresh_descriptor_views() keeps up to date itself, in order
# (the wheel table is built from the per-form summary), each with the groups
# it recomputes for the changed users or forms.
SUMMARY_TABLES: dict[str, tuple[str, str]] = {
    **{name: (summary_body(name), summary_body(name, KEYED_BY[name])) for name in VIEWS},
    WHEEL_VIEW: (
        WHEEL_VIEW_BODY.replace("{heavy_filter}", ""),
        WHEEL_VIEW_BODY.replace("{heavy_filter}", "\n      AND s.user_id = ANY (v_users)"),
    ),
}
SUMMARY_DELETE = {
    name: (
        f" s USING {CHANGED_KEYS}\nWHERE s.user_id = k.u AND s.normalized_form = k.f "
        "AND s.descriptor_type = k.t"
        if KEYED_BY.get(name) == KEY_FILTER
        else " WHERE user_id = ANY (v_users)"
        if KEYED_BY.get(name, USER_FILTER) == USER_FILTER
        else " WHERE normalized_form = ANY (v_forms)"
    )
    for name in SUMMARY_TABLES
}


def refresh_statements(incremental: bool) -> str:
    """DELETE and INSERT of every summary table: every group, or the changed ones."""
    parts = []
    for name, (full, changed) in SUMMARY_TABLES.items():
        where = SUMMARY_DELETE[name] if incremental else ""
        body = changed if incremental else full
        parts.append(
            f"DELETE FROM public.{name}{where};\nINSERT INTO public.{name}\n{body.strip()};"
        )
    return textwrap.indent("\n".join(parts), " " * 8)


SEARCH_TABLES = (
    "mv_descriptor_search",
    "mv_descriptor_search_shared",
    "mv_descriptor_search_forms",
    "mv_descriptor_search_prefixes",
    "mv_descriptor_search_pairs",
    "mv_descriptor_search_pair_users",
    "mv_descriptor_search_user_pairs",
)

# Changes are taken off mv_refresh_changes by the DELETE that reads them, in
# the refresh's transaction: rows written meanwhile (not yet committed) stay
# for the next refresh, and a failed refresh rolls the delete back. Writers
# only append, so they never wait on a refresh in progress. Revision 002's
# search tables are brought up to date by its flavatix_refresh_search(), then
# the summary tables get the groups of the changed users and forms recomputed
# from the table (a group recomputed twice is still right, so a write seen
# both by this refresh and by the next costs only time); readers see the old
# rows until commit. p_full rebuilds every group (repair, or after changes
# that bypassed the triggers); so does a refresh of a table whose
# last_refreshed_at is NULL (filled before change tracking began).
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
    v_full boolean;
    v_full_search boolean;
BEGIN
    IF p_full IS NULL THEN
        RAISE EXCEPTION 'refresh_descriptor_views: p_full must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- One refresh at a time; a second one waits and then sees what is left.
    PERFORM pg_catalog.pg_advisory_xact_lock({REFRESH_LOCK_KEY});
    WITH taken AS (
        DELETE FROM public.mv_refresh_changes
        RETURNING user_ids, normalized_forms, descriptor_types
    ), keys AS (
        SELECT DISTINCT k.u, k.f, k.t
        FROM taken, unnest(taken.user_ids, taken.normalized_forms, taken.descriptor_types)
                    AS k (u, f, t)
    )
    SELECT (SELECT count(*) FROM taken),
           (SELECT array_agg(DISTINCT k.u) FROM keys k),
           (SELECT array_agg(DISTINCT k.f) FROM keys k),
           array_agg(k.u ORDER BY k.u, k.f, k.t),
           array_agg(k.f ORDER BY k.u, k.f, k.t),
           array_agg(k.t ORDER BY k.u, k.f, k.t)
      INTO v_changes, v_users, v_forms, v_key_users, v_key_forms, v_key_types
      FROM keys k;
    v_full_search := p_full OR EXISTS (
        SELECT FROM public.mv_refresh_log
        WHERE last_refreshed_at IS NULL AND view_name = ANY (ARRAY{list(SEARCH_TABLES)}));
    v_full := p_full OR EXISTS (
        SELECT FROM public.mv_refresh_log
        WHERE last_refreshed_at IS NULL AND view_name <> ALL (ARRAY{list(SEARCH_TABLES)}));
    IF v_full_search OR v_changes > 0 THEN
        PERFORM public.flavatix_refresh_search(v_users, v_forms, v_full_search,
            v_key_users, v_key_forms, v_key_types, false);
    END IF;
    IF v_full THEN
{refresh_statements(incremental=False)}
    ELSIF v_changes > 0 THEN
{refresh_statements(incremental=True)}
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
    'distinct forms of the wheel; read by flavatix_wheel_json(). Kept up to date by '
    'refresh_descriptor_views().';

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
"""


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


def upgrade() -> None:
    """Create the summary tables with unique keys, change tracking, refresh and wheel functions."""
    ctx = op.get_context()
    op.execute(CREATE_STATUS)
    # Recording starts before the tables are filled: a write committed after a
    # table's snapshot is recorded, and the first refresh recomputes its groups.
    # Creating the triggers waits for writers in flight, which the fill then sees.
    op.execute(CREATE_TRACKING)
    with ctx.autocommit_block():
        # Each reads the table under an ordinary snapshot: writers are not
        # blocked. The wheel table reads the per-form summary, filled first.
        for name, (full, _changed) in SUMMARY_TABLES.items():
            execute_without_timeout(f"CREATE TABLE IF NOT EXISTS public.{name} AS {full}")
        for name, key in VIEW_KEYS.items():
            create_index_concurrently(
                f"ux_{name}_key", name, f"{key} NULLS NOT DISTINCT", unique=True
            )
        create_index_concurrently(f"ux_{WHEEL_VIEW}_key", WHEEL_VIEW, WHEEL_VIEW_KEY, unique=True)
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
