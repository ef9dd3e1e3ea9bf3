"""Materialized views: per-user, global and per-item-category summaries, wheel generation.

Revision ID: 003
Revises: 002
Create Date: 2026-11-29

Every view has a unique index over its grouping columns, NULLS NOT DISTINCT so
that rows with a NULL category or subcategory are keys too, which is what
REFRESH MATERIALIZED VIEW CONCURRENTLY needs. refresh_descriptor_views()
refreshes them concurrently (readers are never blocked), records when, and
takes off the change counters only what it saw before refreshing.

Change tracking: statement-level triggers with transition tables append the
number of rows a statement changed (not 1 per statement) to
mv_refresh_changes; mv_refresh_status is a view over it and mv_refresh_log.
Appending instead of updating shared counters keeps concurrent writers from
waiting on each other.

Wheels: a personal wheel of a heavy user is assembled from
mv_user_wheel_subcategories (one row per user, wheel type and subcategory,
built on mv_user_descriptor_summary and refreshed after it); every other wheel,
and every call the view cannot answer, is built from the per-form summaries
as before. Both give the same JSON.

Access: the views bypass row level security, so neither they nor the status
table are readable by anon or authenticated. generate_wheel_data_optimized() is
SECURITY DEFINER and asks flavatix_caller_user() (revision 002) which user it
may answer for: a caller bound by row level security only gets auth.uid()'s
wheel. The wheel builders flavatix_wheel_json() and
flavatix_wheel_json_from_forms() and refresh_descriptor_views() are not
executable by PUBLIC, anon or authenticated.
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
        EXECUTE format('REVOKE ALL ON FUNCTION public.refresh_descriptor_views() FROM %I', r);
        EXECUTE format('REVOKE ALL ON FUNCTION public.flavatix_wheel_json(text, uuid, text, '
                       'text[], integer, integer) FROM %I', r);
    END LOOP;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT EXECUTE ON FUNCTION public.refresh_descriptor_views() TO service_role;
    END IF;
END;
$$;
"""

CREATE_STATUS = """
CREATE TABLE IF NOT EXISTS public.mv_refresh_log (
    view_name text PRIMARY KEY,
    last_refreshed_at timestamptz
);

-- One row per writing statement, appended by the change-tracking triggers.
-- Appending (never updating a shared counter row) keeps concurrent writers
-- from queueing behind each other's row locks until commit.
CREATE TABLE IF NOT EXISTS public.mv_refresh_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_rows bigint NOT NULL CHECK (changed_rows > 0),
    recorded_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.mv_refresh_log IS
    'When refresh_descriptor_views() last refreshed each descriptor view.';
COMMENT ON TABLE public.mv_refresh_changes IS
    'Rows changed per writing statement since the last refresh; consumed by '
    'refresh_descriptor_views().';

-- The views were just populated by this revision.
INSERT INTO public.mv_refresh_log (view_name, last_refreshed_at)
VALUES ('mv_descriptor_search', now()),
       -- revision 002's views derived from mv_descriptor_search (refreshed after it)
       ('mv_descriptor_search_forms', now()),
       ('mv_descriptor_search_prefixes', now()),
       ('mv_descriptor_search_pairs', now()),
       ('mv_descriptor_search_pair_users', now()),
       ('mv_descriptor_search_user_pairs', now()),
       ('mv_user_descriptor_summary', now()),
       ('mv_global_descriptor_stats', now()),
       ('mv_category_descriptor_summary', now()),
       ('mv_wheel_generation_stats', now())
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

# Statement-level with transition tables: counts rows, and costs one appended
# row per writing statement. PostgreSQL allows a transition table only on a
# single-event trigger, hence three triggers on one function.
CREATE_TRACKING = """
CREATE OR REPLACE FUNCTION public.flavor_descriptors_count_changes()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM new_rows;
    END IF;
    IF n > 0 THEN
        INSERT INTO public.mv_refresh_changes (changed_rows) VALUES (n);
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS flavor_descriptors_count_inserts ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_inserts
    AFTER INSERT ON public.flavor_descriptors
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.flavor_descriptors_count_changes();
DROP TRIGGER IF EXISTS flavor_descriptors_count_updates ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_updates
    AFTER UPDATE ON public.flavor_descriptors
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.flavor_descriptors_count_changes();
DROP TRIGGER IF EXISTS flavor_descriptors_count_deletes ON public.flavor_descriptors;
CREATE TRIGGER flavor_descriptors_count_deletes
    AFTER DELETE ON public.flavor_descriptors
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.flavor_descriptors_count_changes();
"""

# The refresh first deletes the change rows committed before it started, in
# its own transaction: rows written meanwhile stay counted for the next
# refresh, and a failed refresh rolls the delete back. Writers only append, so
# they never wait on a refresh in progress.
CREATE_REFRESH = """
CREATE OR REPLACE FUNCTION public.refresh_descriptor_views()
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v text;
BEGIN
    DELETE FROM public.mv_refresh_changes;
    -- A view built on other registered views is refreshed after them (by
    -- depth of that dependency, then by name), so it sees their new contents.
    FOR v IN
        WITH RECURSIVE registered AS (
            SELECT s.view_name, to_regclass(format('public.%I', s.view_name))::oid AS rel
            FROM public.mv_refresh_log s
        ), built_on AS (
            SELECT DISTINCT r.ev_class AS child, d.refobjid AS parent
            FROM pg_catalog.pg_rewrite r
            JOIN pg_catalog.pg_depend d
              ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
            WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
              AND d.refobjid <> r.ev_class
              AND r.ev_class IN (SELECT g.rel FROM registered g)
              AND d.refobjid IN (SELECT g.rel FROM registered g)
        ), depth AS (
            SELECT g.rel, 0 AS level FROM registered g WHERE g.rel IS NOT NULL
            UNION ALL
            SELECT b.child, d.level + 1 FROM depth d JOIN built_on b ON b.parent = d.rel
        )
        SELECT g.view_name FROM registered g JOIN depth d ON d.rel = g.rel
        GROUP BY g.view_name ORDER BY max(d.level), g.view_name
    LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY public.%I', v);
    END LOOP;
    UPDATE public.mv_refresh_log SET last_refreshed_at = clock_timestamp();
END;
$$;

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

REVOKE ALL ON FUNCTION public.refresh_descriptor_views() FROM PUBLIC;
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
    WHERE s.descriptor_type IN ('aroma', 'flavor', 'metaphor')
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

# Registered like the other views, so refresh_descriptor_views() refreshes it
# and the change counters count for it; closed to the API roles like them.
REGISTER_WHEEL_VIEW = f"""
INSERT INTO public.mv_refresh_log (view_name, last_refreshed_at)
VALUES ('{WHEEL_VIEW}', now())
ON CONFLICT (view_name) DO NOTHING;

REVOKE ALL ON public.{WHEEL_VIEW} FROM PUBLIC;

COMMENT ON MATERIALIZED VIEW public.{WHEEL_VIEW} IS
    'Per user, wheel type and subcategory: count, top {WHEEL_TOP_N} descriptors as wheel JSON, '
    'distinct forms of the wheel; read by flavatix_wheel_json(). Not readable by anon or '
    'authenticated (bypasses RLS); refreshed by refresh_descriptor_views().';

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
LANGUAGE plpgsql STABLE SECURITY DEFINER
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
DROP FUNCTION IF EXISTS public.generate_wheel_data_optimized(uuid, text, integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_wheel_json(text, uuid, text, text[], integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavatix_wheel_json_from_forms(
    text, uuid, text, text[], integer, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.should_refresh_views(integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refresh_descriptor_views();
-- squawk-ignore ban-drop-view
DROP VIEW IF EXISTS public.mv_refresh_status;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_refresh_changes;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.mv_refresh_log;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS public.mv_user_wheel_subcategories;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS public.mv_wheel_generation_stats;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS public.mv_category_descriptor_summary;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS public.mv_global_descriptor_stats;
-- squawk-ignore ban-drop-view
DROP MATERIALIZED VIEW IF EXISTS public.mv_user_descriptor_summary;
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


def upgrade() -> None:
    """Create the four views with unique keys, change tracking, refresh and wheel functions."""
    ctx = op.get_context()
    for name, body in VIEWS.items():
        # Reads the table under an ordinary snapshot: writers are not blocked.
        execute_without_timeout(
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS public.{name} AS {body} WITH DATA"
        )
        op.execute(f"REVOKE ALL ON public.{name} FROM PUBLIC")
    # Reads mv_user_descriptor_summary, just populated above.
    execute_without_timeout(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS public.{WHEEL_VIEW} AS {WHEEL_VIEW_BODY} WITH DATA"
    )
    op.execute(CREATE_STATUS)
    op.execute(CREATE_TRACKING)
    op.execute(CREATE_REFRESH)
    op.execute(CREATE_WHEEL_JSON_FROM_FORMS)
    op.execute(CREATE_WHEEL_JSON)
    op.execute(REGISTER_WHEEL_VIEW)
    op.execute(CREATE_GENERATE_WHEEL)
    op.execute(REVOKE_FROM_API_ROLES)
    with ctx.autocommit_block():
        for name, key in VIEW_KEYS.items():
            create_index_concurrently(
                f"ux_{name}_key", name, f"{key} NULLS NOT DISTINCT", unique=True
            )
        create_index_concurrently(f"ux_{WHEEL_VIEW}_key", WHEEL_VIEW, WHEEL_VIEW_KEY, unique=True)
        for name in VIEWS:
            execute_without_timeout(f"ANALYZE public.{name}")
        execute_without_timeout(f"ANALYZE public.{WHEEL_VIEW}")


def downgrade() -> None:
    """Drop the views, their bookkeeping and functions; descriptor rows are untouched."""
    op.execute(DROP_OBJECTS)
