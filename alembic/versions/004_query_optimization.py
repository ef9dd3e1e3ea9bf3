"""Query optimization: keyset pages, batch insert, cached wheels, statistics, hints.

Revision ID: 004
Revises: 003
Create Date: 2026-11-29

Pages are keyset pages over (created_at DESC, id DESC), served by a new index
on (user_id, created_at DESC, id DESC): the id breaks ties, so rows sharing a
created_at are neither skipped nor repeated, in either direction. Rows with a
NULL created_at come last; a cursor at such a row passes created_at NULL with
its id.

Access, as in revisions 002 and 003: every function runs as its caller
(SECURITY INVOKER), so the policies of the tables and summaries apply to what
it reads, and functions that answer for a p_user_id ask
flavatix_caller_user(), so a caller bound by row level security only gets
auth.uid()'s rows. get_wheel_data_fast() therefore sees the cached category
wheels only where flavor_wheels' policies let the caller see them, and
otherwise builds the same wheel from the per-category summary. Universal and per-category
wheels are aggregates readable by everyone, like universal wheels. No function
executes SQL text that a caller passes in.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs.
from collections.abc import Sequence

from alembic import op

revision: str = "004"
down_revision: str | Sequence[str] | None = "003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX_NAME = "ix_flavor_descriptors_user_created_id"
INDEX_DEFINITION = "(user_id, created_at DESC, id DESC)"

# Each half of the page is one index range scan: rows with a created_at by
# row comparison, then (going forward) the NULL created_at rows by id. The
# bounds are plain values, never "first page OR ...", so one generic plan serves
# every unfiltered call: planning over many partitions (revision 005) costs more
# than the page itself, and a generic plan still skips the months past the cursor.
CREATE_PAGINATED = """
CREATE OR REPLACE FUNCTION public.get_descriptors_paginated(
    p_user_id uuid,
    p_descriptor_type text DEFAULT NULL,
    p_category text DEFAULT NULL,
    p_cursor_id uuid DEFAULT NULL,
    p_cursor_created_at timestamptz DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_direction text DEFAULT 'forward')
RETURNS TABLE (id uuid, descriptor_text text, descriptor_type text, category text,
               subcategory text, confidence_score numeric, intensity integer, item_name text,
               item_category text, source_type text, source_id uuid, created_at timestamptz,
               has_more boolean)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    fn constant text := 'get_descriptors_paginated';
    lim integer := public.flavatix_check_limit(fn, 'p_limit', p_limit, 500);
    uid uuid;
    first_page boolean := p_cursor_id IS NULL;
    at_null boolean := p_cursor_id IS NOT NULL AND p_cursor_created_at IS NULL;
    -- The cursor as an inclusive bound; the cursor row itself is left out by id.
    -- Going forward from the first page every row is at or below
    -- (infinity, the largest uuid); going backward from a NULL created_at every
    -- row with one is at or above (-infinity, the smallest uuid).
    older_at timestamptz := coalesce(p_cursor_created_at, 'infinity');
    older_id uuid;
    newer_at timestamptz := coalesce(p_cursor_created_at, '-infinity');
    newer_id uuid;
    null_below uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_direction IS NULL OR p_direction NOT IN ('forward', 'backward') THEN
        RAISE EXCEPTION '%: p_direction must be forward or backward, not %',
                        fn, coalesce(p_direction, 'NULL')
            USING ERRCODE = CASE WHEN p_direction IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    IF p_cursor_id IS NULL AND p_cursor_created_at IS NOT NULL THEN
        RAISE EXCEPTION '%: p_cursor_id is required with p_cursor_created_at', fn
            USING ERRCODE = '22004';
    END IF;
    PERFORM public.flavatix_check_descriptor_type(fn, p_descriptor_type);
    uid := public.flavatix_caller_user(p_user_id, fn);
    IF p_descriptor_type IS NOT NULL OR p_category IS NOT NULL THEN
        -- A filtered page is planned for its values, so a rare type can use the
        -- (user_id, descriptor_type, created_at) index instead of walking all of
        -- the user's rows; the function's SET restores the mode on return.
        PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
    END IF;
    older_id := CASE WHEN first_page THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'
                     ELSE p_cursor_id END;
    newer_id := CASE WHEN at_null THEN '00000000-0000-0000-0000-000000000000'
                     ELSE p_cursor_id END;
    null_below := CASE WHEN at_null THEN p_cursor_id
                       ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff' END;

    IF p_direction = 'forward' THEN
        -- Older rows than the cursor, newest first.
        RETURN QUERY
        WITH page AS (
            (SELECT d.* FROM public.flavor_descriptors d
             WHERE d.user_id = uid AND NOT at_null
               AND (d.created_at, d.id) <= (older_at, older_id)
               AND d.created_at <= older_at
               AND d.id IS DISTINCT FROM p_cursor_id
               AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
               AND (p_category IS NULL OR d.category = p_category)
             ORDER BY d.created_at DESC, d.id DESC
             LIMIT lim + 1)
            UNION ALL
            (SELECT d.* FROM public.flavor_descriptors d
             WHERE d.user_id = uid AND d.created_at IS NULL
               AND d.id <= null_below AND d.id IS DISTINCT FROM p_cursor_id
               AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
               AND (p_category IS NULL OR d.category = p_category)
             ORDER BY d.id DESC
             LIMIT lim + 1)
        ), numbered AS (
            SELECT p.*, row_number() OVER (ORDER BY p.created_at DESC NULLS LAST, p.id DESC) AS rn,
                   count(*) OVER () AS n
            FROM page p
        )
        SELECT x.id, x.descriptor_text, x.descriptor_type, x.category, x.subcategory,
               x.confidence_score, x.intensity, x.item_name, x.item_category, x.source_type,
               x.source_id, x.created_at, x.n > lim
        FROM numbered x
        WHERE x.rn <= lim
        ORDER BY x.rn;
    ELSE
        -- Newer rows than the cursor: fetched oldest first, returned newest first.
        RETURN QUERY
        WITH page AS (
            (SELECT d.* FROM public.flavor_descriptors d
             WHERE d.user_id = uid AND d.created_at IS NULL AND at_null AND d.id > p_cursor_id
               AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
               AND (p_category IS NULL OR d.category = p_category)
             ORDER BY d.id
             LIMIT lim + 1)
            UNION ALL
            (SELECT d.* FROM public.flavor_descriptors d
             WHERE d.user_id = uid AND NOT first_page
               AND (d.created_at, d.id) >= (newer_at, newer_id)
               AND d.created_at >= newer_at
               AND d.id IS DISTINCT FROM p_cursor_id
               AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
               AND (p_category IS NULL OR d.category = p_category)
             ORDER BY d.created_at, d.id
             LIMIT lim + 1)
        ), numbered AS (
            SELECT p.*, row_number() OVER (ORDER BY p.created_at NULLS FIRST, p.id) AS rn,
                   count(*) OVER () AS n
            FROM page p
        )
        SELECT x.id, x.descriptor_text, x.descriptor_type, x.category, x.subcategory,
               x.confidence_score, x.intensity, x.item_name, x.item_category, x.source_type,
               x.source_id, x.created_at, x.n > lim
        FROM numbered x
        WHERE x.rn <= lim
        ORDER BY x.rn DESC;
    END IF;
END;
$$;
"""

# Invoker: row level security decides which wheels and rows a caller sees.
CREATE_NEEDS_REGENERATION = """
CREATE OR REPLACE FUNCTION public.wheel_needs_regeneration(
    p_wheel_id uuid, p_threshold_minutes integer DEFAULT 30)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'wheel_needs_regeneration';
    w record;
BEGIN
    IF p_wheel_id IS NULL THEN
        RAISE EXCEPTION '%: p_wheel_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_threshold_minutes IS NULL THEN
        RAISE EXCEPTION '%: p_threshold_minutes must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_threshold_minutes < 0 THEN
        RAISE EXCEPTION '%: p_threshold_minutes must not be negative, not %',
                        fn, p_threshold_minutes
            USING ERRCODE = '22023';
    END IF;
    SELECT fw.user_id, fw.generated_at, fw.expires_at INTO w
    FROM public.flavor_wheels fw WHERE fw.id = p_wheel_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no wheel with p_wheel_id %', fn, p_wheel_id
            USING ERRCODE = 'P0002';
    END IF;
    IF w.generated_at IS NULL OR (w.expires_at IS NOT NULL AND w.expires_at <= now()) THEN
        RETURN true;
    END IF;
    IF w.generated_at > now() - make_interval(mins => p_threshold_minutes) THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        SELECT FROM public.flavor_descriptors d
        WHERE (w.user_id IS NULL OR d.user_id = w.user_id)
          AND d.created_at > w.generated_at);
END;
$$;
"""

CREATE_WHEEL_FAST = """
CREATE OR REPLACE FUNCTION public.get_wheel_data_fast(
    p_user_id uuid,
    p_wheel_type text DEFAULT 'combined',
    p_scope_type text DEFAULT 'personal',
    p_item_category text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'get_wheel_data_fast';
    uid uuid;
    types text[];
    cached jsonb;
BEGIN
    IF p_wheel_type IS NULL OR p_wheel_type NOT IN ('aroma', 'flavor', 'combined', 'metaphor') THEN
        RAISE EXCEPTION '%: p_wheel_type must be one of aroma, flavor, combined, metaphor, not %',
                        fn, coalesce(p_wheel_type, 'NULL')
            USING ERRCODE = CASE WHEN p_wheel_type IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    IF p_scope_type IS NULL OR p_scope_type NOT IN ('personal', 'universal', 'category') THEN
        RAISE EXCEPTION '%: p_scope_type must be personal, universal or category, not %',
                        fn, coalesce(p_scope_type, 'NULL')
            USING ERRCODE = CASE WHEN p_scope_type IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    types := CASE WHEN p_wheel_type = 'combined' THEN ARRAY['aroma', 'flavor']
                  ELSE ARRAY[p_wheel_type] END;

    IF p_scope_type = 'personal' THEN
        IF p_user_id IS NULL THEN
            RAISE EXCEPTION '%: p_user_id must not be NULL for a personal wheel', fn
                USING ERRCODE = '22004';
        END IF;
        uid := public.flavatix_caller_user(p_user_id, fn);
        SELECT fw.wheel_data INTO cached FROM public.flavor_wheels fw
        WHERE fw.user_id = uid AND fw.wheel_type = p_wheel_type AND fw.scope_type = 'personal'
          AND (fw.expires_at IS NULL OR fw.expires_at > now())
        ORDER BY fw.generated_at DESC NULLS LAST LIMIT 1;
        RETURN coalesce(cached, public.flavatix_wheel_json('personal', uid, NULL, types, 1, 10));
    END IF;

    IF p_scope_type = 'universal' THEN
        SELECT fw.wheel_data INTO cached FROM public.flavor_wheels fw
        WHERE fw.user_id IS NULL AND fw.wheel_type = p_wheel_type
          AND fw.scope_type = 'universal'
          AND (fw.expires_at IS NULL OR fw.expires_at > now())
        ORDER BY fw.generated_at DESC NULLS LAST LIMIT 1;
        RETURN coalesce(cached, public.flavatix_wheel_json('universal', NULL, NULL, types, 1, 10));
    END IF;

    IF p_item_category IS NULL OR btrim(p_item_category) = '' THEN
        RAISE EXCEPTION '%: p_item_category is required for a category wheel', fn
            USING ERRCODE = CASE WHEN p_item_category IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    SELECT fw.wheel_data INTO cached FROM public.flavor_wheels fw
    WHERE fw.user_id IS NULL AND fw.wheel_type = p_wheel_type AND fw.scope_type = 'category'
      AND fw.scope_filter @> jsonb_build_object('item_category', p_item_category)
      AND (fw.expires_at IS NULL OR fw.expires_at > now())
    ORDER BY fw.generated_at DESC NULLS LAST LIMIT 1;
    RETURN coalesce(cached,
                    public.flavatix_wheel_json('category', NULL, p_item_category, types, 1, 10));
END;
$$;
"""

# Invoker, so the insert policy applies. Each element is checked, then inserted
# in its own subtransaction: a bad element is reported with its reason and the
# good ones are kept. Duplicates: the same normalized text and type earlier in
# the batch, or already stored for this source (ON CONFLICT DO NOTHING).
CREATE_BATCH_INSERT = """
CREATE OR REPLACE FUNCTION public.batch_insert_descriptors(
    p_descriptors jsonb, p_user_id uuid, p_source_type text, p_source_id uuid)
RETURNS TABLE (inserted_count integer, duplicate_count integer, error_count integer,
               errors jsonb)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'batch_insert_descriptors';
    uid uuid;
    el jsonb;
    pos bigint;
    reason text;
    norm text;
    seen text[] := '{}'::text[];
    added integer;
BEGIN
    inserted_count := 0;
    duplicate_count := 0;
    error_count := 0;
    errors := '[]'::jsonb;
    IF p_descriptors IS NULL THEN
        RAISE EXCEPTION '%: p_descriptors must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF jsonb_typeof(p_descriptors) <> 'array' THEN
        RAISE EXCEPTION '%: p_descriptors must be a JSON array, not %', fn,
                        jsonb_typeof(p_descriptors)
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_array_length(p_descriptors) > 1000 THEN
        RAISE EXCEPTION '%: p_descriptors holds % elements; at most 1000 per call', fn,
                        jsonb_array_length(p_descriptors)
            USING ERRCODE = '22023';
    END IF;
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_source_type IS NULL THEN
        RAISE EXCEPTION '%: p_source_type must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_source_type NOT IN ('quick_tasting', 'quick_review', 'prose_review',
                             'study_session') THEN
        RAISE EXCEPTION '%: p_source_type must be one of quick_tasting, quick_review, '
                        'prose_review, study_session, not %', fn, p_source_type
            USING ERRCODE = '22023';
    END IF;
    IF p_source_id IS NULL THEN
        RAISE EXCEPTION '%: p_source_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    uid := public.flavatix_caller_user(p_user_id, fn);

    FOR el, pos IN SELECT e.value, e.ordinality - 1
                   FROM jsonb_array_elements(p_descriptors) WITH ORDINALITY e LOOP
        reason := CASE
            WHEN jsonb_typeof(el) <> 'object' THEN 'element must be a JSON object'
            WHEN jsonb_typeof(el -> 'text') IS DISTINCT FROM 'string'
                 OR public.normalize_descriptor_text(el ->> 'text') = ''
                THEN 'text must be a non-empty string'
            WHEN (el ->> 'type') IS NULL OR (el ->> 'type') NOT IN
                    ('aroma', 'flavor', 'texture', 'defect', 'metaphor', 'mouthfeel')
                THEN 'type must be one of aroma, flavor, texture, defect, metaphor, mouthfeel'
            WHEN coalesce(jsonb_typeof(el -> 'confidence'), 'null') NOT IN ('null', 'number')
                 OR (el ->> 'confidence')::numeric NOT BETWEEN 0 AND 1
                THEN 'confidence must be a number from 0 to 1'
            WHEN coalesce(jsonb_typeof(el -> 'intensity'), 'null') NOT IN ('null', 'number')
                 OR (el ->> 'intensity')::numeric NOT IN (1, 2, 3, 4, 5)
                THEN 'intensity must be an integer from 1 to 5'
            WHEN coalesce(jsonb_typeof(el -> 'ai_extracted'), 'null') NOT IN ('null', 'boolean')
                THEN 'ai_extracted must be true or false'
            WHEN EXISTS (SELECT FROM unnest(ARRAY['category', 'subcategory', 'item_name',
                                                  'item_category', 'extraction_model']) k
                         WHERE coalesce(jsonb_typeof(el -> k), 'null') NOT IN ('null', 'string'))
                THEN 'category, subcategory, item_name, item_category and extraction_model '
                     'must be strings'
        END;
        IF reason IS NULL THEN
            norm := public.normalize_descriptor_text(el ->> 'text') || '|' || (el ->> 'type');
            IF norm = ANY (seen) THEN
                duplicate_count := duplicate_count + 1;
                CONTINUE;
            END IF;
            seen := seen || norm;
            BEGIN
                INSERT INTO public.flavor_descriptors
                    (user_id, source_type, source_id, descriptor_text, descriptor_type,
                     category, subcategory, confidence_score, intensity, item_name,
                     item_category, ai_extracted, extraction_model)
                VALUES (uid, p_source_type, p_source_id, el ->> 'text', el ->> 'type',
                        el ->> 'category', el ->> 'subcategory',
                        round((el ->> 'confidence')::numeric, 2),
                        (el ->> 'intensity')::numeric::integer, el ->> 'item_name',
                        el ->> 'item_category', coalesce((el ->> 'ai_extracted')::boolean, false),
                        el ->> 'extraction_model')
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS added = ROW_COUNT;
                IF added = 1 THEN
                    inserted_count := inserted_count + 1;
                ELSE
                    duplicate_count := duplicate_count + 1;
                END IF;
                CONTINUE;
            EXCEPTION WHEN OTHERS THEN
                reason := SQLERRM;
            END;
        END IF;
        error_count := error_count + 1;
        errors := errors || jsonb_build_array(jsonb_build_object('index', pos, 'reason', reason));
    END LOOP;
    RETURN NEXT;
END;
$$;
"""

# A function of this name with another result type may exist from a
# hand-applied script; CREATE OR REPLACE cannot change a result type.
DROP_CONFLICTING_STATS = """
DO $$
BEGIN
    IF to_regprocedure('public.get_user_descriptor_stats(uuid)') IS NOT NULL
       AND (SELECT prorettype FROM pg_proc
            WHERE oid = to_regprocedure('public.get_user_descriptor_stats(uuid)'))
           <> 'jsonb'::regtype THEN
        RAISE NOTICE 'replacing get_user_descriptor_stats(uuid), which returned another type';
        DROP FUNCTION public.get_user_descriptor_stats(uuid);
    END IF;
END;
$$;
"""

CREATE_STATS = """
CREATE OR REPLACE FUNCTION public.get_user_descriptor_stats(p_user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'get_user_descriptor_stats';
    uid uuid;
    s record;
    refreshed timestamptz;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    uid := public.flavatix_caller_user(p_user_id, fn);
    SELECT * INTO s FROM public.mv_wheel_generation_stats w WHERE w.user_id = uid;
    SELECT r.last_refreshed_at INTO refreshed FROM public.mv_refresh_log r
    WHERE r.view_name = 'mv_wheel_generation_stats';
    RETURN jsonb_build_object(
        'userId', uid,
        'totalDescriptors', coalesce(s.total_descriptors, 0),
        'uniqueDescriptors', coalesce(s.unique_descriptors, 0),
        'byType', jsonb_build_object(
            'aroma', coalesce(s.aroma_count, 0), 'flavor', coalesce(s.flavor_count, 0),
            'texture', coalesce(s.texture_count, 0), 'defect', coalesce(s.defect_count, 0),
            'metaphor', coalesce(s.metaphor_count, 0),
            'mouthfeel', coalesce(s.mouthfeel_count, 0)),
        'sources', coalesce(s.source_count, 0),
        'categories', coalesce(s.category_count, 0),
        'aiExtracted', coalesce(s.ai_extracted_count, 0),
        'keywordExtracted', coalesce(s.keyword_count, 0),
        'latestDescriptorAt', s.latest_descriptor_at,
        'cache', jsonb_build_object('source', 'mv_wheel_generation_stats',
                                    'refreshedAt', refreshed,
                                    'ttlSeconds', 300));
END;
$$;
"""

CREATE_TOP = """
CREATE OR REPLACE FUNCTION public.get_top_descriptors(
    p_user_id uuid DEFAULT NULL,
    p_descriptor_type text DEFAULT NULL,
    p_category text DEFAULT NULL,
    p_limit integer DEFAULT 20)
RETURNS TABLE (descriptor_text text, descriptor_type text, category text,
               usage_count bigint, avg_intensity numeric)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'get_top_descriptors';
    lim integer := public.flavatix_check_limit(fn, 'p_limit', p_limit, 1000);
    cat text;
    uid uuid;
BEGIN
    PERFORM public.flavatix_check_descriptor_type(fn, p_descriptor_type);
    IF p_category IS NOT NULL THEN
        cat := public.flavatix_check_text(fn, 'p_category', p_category);
    END IF;
    uid := public.flavatix_caller_user(p_user_id, fn);
    RETURN QUERY
    WITH src AS (
        SELECT u.normalized_form, u.descriptor_type, u.category, u.descriptor_text,
               u.occurrence_count AS n, u.intensity_sum, u.intensity_count
        FROM public.mv_user_descriptor_summary u
        WHERE uid IS NOT NULL AND u.user_id = uid
        UNION ALL
        SELECT g.normalized_form, g.descriptor_type, g.category, g.descriptor_text,
               g.total_occurrences, g.intensity_sum, g.intensity_count
        FROM public.mv_global_descriptor_stats g
        WHERE uid IS NULL
    ), filtered AS (
        SELECT r.* FROM src r
        WHERE (p_descriptor_type IS NULL OR r.descriptor_type = p_descriptor_type)
          AND (cat IS NULL OR public.normalize_descriptor_text(r.category) = cat)
    )
    SELECT (array_agg(f.descriptor_text ORDER BY f.n DESC, f.descriptor_text))[1],
           f.descriptor_type,
           (array_agg(f.category ORDER BY f.n DESC, f.category)
                FILTER (WHERE f.category IS NOT NULL))[1],
           sum(f.n)::bigint,
           round(sum(f.intensity_sum) / nullif(sum(f.intensity_count), 0), 2)
    FROM filtered f
    GROUP BY f.normalized_form, f.descriptor_type
    ORDER BY 4 DESC, f.normalized_form, f.descriptor_type
    LIMIT lim;
END;
$$;
"""

# Days are UTC calendar days, the last p_days of them including today.
CREATE_TIMELINE = """
CREATE OR REPLACE FUNCTION public.get_descriptor_timeline(
    p_user_id uuid, p_days integer DEFAULT 30, p_descriptor_type text DEFAULT NULL)
RETURNS TABLE (day date, descriptor_count bigint, unique_descriptors bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'get_descriptor_timeline';
    days integer := public.flavatix_check_limit(fn, 'p_days', p_days, 3660);
    since timestamptz;
    uid uuid;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION '%: p_user_id must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    PERFORM public.flavatix_check_descriptor_type(fn, p_descriptor_type);
    uid := public.flavatix_caller_user(p_user_id, fn);
    since := (date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => days - 1))
             AT TIME ZONE 'UTC';
    RETURN QUERY
    SELECT (d.created_at AT TIME ZONE 'UTC')::date AS day, count(*),
           count(DISTINCT (d.normalized_form, d.descriptor_type))
    FROM public.flavor_descriptors d
    WHERE d.user_id = uid AND d.created_at >= since
      AND (p_descriptor_type IS NULL OR d.descriptor_type = p_descriptor_type)
    GROUP BY 1
    ORDER BY 1 DESC;
END;
$$;
"""

# Table-wide: the planner's estimate. One user: the summary view (refreshed
# periodically), or an index count for a user it does not know yet.
CREATE_ESTIMATE = """
CREATE OR REPLACE FUNCTION public.estimate_descriptor_count(p_user_id uuid DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
    uid uuid := public.flavatix_caller_user(p_user_id, 'estimate_descriptor_count');
    n bigint;
BEGIN
    IF uid IS NULL THEN
        SELECT c.reltuples::bigint INTO n FROM pg_catalog.pg_class c
        WHERE c.oid = 'public.flavor_descriptors'::pg_catalog.regclass;
        IF n < 0 THEN
            SELECT coalesce(sum(w.total_descriptors), 0)::bigint INTO n
            FROM public.mv_wheel_generation_stats w;
        END IF;
        RETURN n;
    END IF;
    SELECT w.total_descriptors INTO n FROM public.mv_wheel_generation_stats w
    WHERE w.user_id = uid;
    IF n IS NULL THEN
        SELECT count(*) INTO n FROM public.flavor_descriptors d WHERE d.user_id = uid;
    END IF;
    RETURN n;
END;
$$;
"""

CREATE_HINTS = """
CREATE TABLE IF NOT EXISTS public.query_performance_hints (
    query_type text PRIMARY KEY,
    description text NOT NULL,
    recommended_indexes text[] NOT NULL DEFAULT '{}',
    cache_ttl_seconds bigint,
    use_pagination boolean NOT NULL DEFAULT false,
    materialized_view text,
    notes text
);

COMMENT ON TABLE public.query_performance_hints IS
    'How each kind of Flavatix query should be run: function, indexes, caching.';

INSERT INTO public.query_performance_hints AS h
    (query_type, description, recommended_indexes, cache_ttl_seconds, use_pagination,
     materialized_view, notes)
VALUES
    ('wheel_generation', 'generate_wheel_data_optimized / get_wheel_data_fast',
     ARRAY['ux_mv_user_descriptor_summary_key'], 900, false, 'mv_user_descriptor_summary',
     'Cache in flavor_wheels with expires_at; wheel_needs_regeneration() says when to rebuild.'),
    ('descriptor_page', 'get_descriptors_paginated: keyset pages, newest first',
     ARRAY['ix_flavor_descriptors_user_created_id'], NULL, true, NULL,
     'Pass the last row''s id and created_at as the cursor; never OFFSET.'),
    ('autocomplete', 'autocomplete_descriptors: prefix, then typo-tolerant matches',
     ARRAY['ix_mv_descriptor_search_prefix', 'ix_mv_descriptor_search_trgm'], 300, false,
     'mv_descriptor_search', 'Searches distinct forms, not raw rows.'),
    ('user_statistics', 'get_user_descriptor_stats', ARRAY['ux_mv_wheel_generation_stats_key'],
     300, false, 'mv_wheel_generation_stats', 'As fresh as the last refresh_descriptor_views().'),
    ('similarity_search', 'find_similar_descriptors: bands of similarity over distinct forms',
     ARRAY['ix_mv_descriptor_search_forms_trgm_0_6', 'ix_mv_descriptor_search_forms_trgm_7_8',
           'ix_mv_descriptor_search_forms_trgm_9_10', 'ix_mv_descriptor_search_forms_trgm_11_12',
           'ix_mv_descriptor_search_forms_trgm_13_14', 'ix_mv_descriptor_search_forms_trgm_15_16',
           'ix_mv_descriptor_search_forms_trgm_17_18', 'ix_mv_descriptor_search_forms_trgm_19_21',
           'ix_mv_descriptor_search_forms_trgm_22_up',
           'ix_mv_descriptor_search_trgm'], 300, false,
     'mv_descriptor_search_forms',
     'Trigram % operator with a per-call threshold, over the trigram-count bands in reach.'),
    ('duplicate_detection',
     'find_duplicate_descriptors: precomputed pairs for heavy users, else one user''s forms',
     ARRAY['ux_mv_descriptor_search_user_pairs_key',
           'ix_flavor_descriptors_user_normalized_type'], 3600, false,
     'mv_descriptor_search_user_pairs', 'Thresholds below 0.7 compare the user''s forms live.'),
    ('top_descriptors', 'get_top_descriptors', ARRAY['ux_mv_global_descriptor_stats_key'], 900,
     false, 'mv_global_descriptor_stats', NULL),
    ('timeline', 'get_descriptor_timeline: per-day counts, newest first (UTC days)',
     ARRAY['ix_flavor_descriptors_user_created_id'], 600, false, NULL, NULL),
    ('count_estimate', 'estimate_descriptor_count', ARRAY[]::text[], 3600, false,
     'mv_wheel_generation_stats', 'Table-wide counts come from planner statistics.')
ON CONFLICT (query_type) DO NOTHING;

-- Read-only for the application: signed-in users and service_role may read
-- the hints (they name functions and indexes, no user data), anon (not signed
-- in) has no use for them, and only the owner (migrations) writes them. Row
-- level security with a read-only policy keeps it so even if a write privilege
-- is granted later; the owner, who fills the table, is not bound by it.
-- Enabling it again is a no-op, so a re-run is safe.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.query_performance_hints ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.query_performance_hints FROM PUBLIC;
DO $$
DECLARE
    r text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_policy
                   WHERE polrelid = 'public.query_performance_hints'::regclass
                     AND polname = 'query_performance_hints_read') THEN
        CREATE POLICY query_performance_hints_read ON public.query_performance_hints
            FOR SELECT USING (true);
    END IF;
    -- Not Supabase (no auth schema, roles are per cluster): readable by all.
    IF to_regprocedure('auth.uid()') IS NULL
       OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        GRANT SELECT ON public.query_performance_hints TO PUBLIC;
        RETURN;
    END IF;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON public.query_performance_hints FROM %I', r);
            IF r <> 'anon' THEN
                EXECUTE format('GRANT SELECT ON public.query_performance_hints TO %I', r);
            END IF;
        END IF;
    END LOOP;
END;
$$;
"""

FUNCTIONS = (
    CREATE_PAGINATED,
    CREATE_NEEDS_REGENERATION,
    CREATE_WHEEL_FAST,
    CREATE_BATCH_INSERT,
    DROP_CONFLICTING_STATS,
    CREATE_STATS,
    CREATE_TOP,
    CREATE_TIMELINE,
    CREATE_ESTIMATE,
)

DROP_OBJECTS = """
-- Each object dropped here is this revision's own; callers of the parent
-- revision never had it.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.get_descriptors_paginated(uuid, text, text, uuid, timestamptz,
                                                        integer, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.wheel_needs_regeneration(uuid, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.get_wheel_data_fast(uuid, text, text, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.batch_insert_descriptors(jsonb, uuid, text, uuid);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.get_user_descriptor_stats(uuid);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.get_top_descriptors(uuid, text, text, integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.get_descriptor_timeline(uuid, integer, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.estimate_descriptor_count(uuid);
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.query_performance_hints;
"""


def execute_without_timeout(sql: str) -> None:
    """Run a long but non-blocking statement (index build)."""
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


def create_index_concurrently(name: str, table: str, definition: str) -> None:
    """Build one index without blocking writers; a leftover INVALID copy is dropped first."""
    if not op.get_context().as_sql and index_is_valid(name):
        return
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}")
    execute_without_timeout(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON public.{table} {definition}"
    )


def upgrade() -> None:
    """Add the keyset index, query functions and the query_performance_hints table."""
    ctx = op.get_context()
    for sql in FUNCTIONS:
        op.execute(sql)
    op.execute(CREATE_HINTS)
    with ctx.autocommit_block():
        create_index_concurrently(INDEX_NAME, "flavor_descriptors", INDEX_DEFINITION)


def downgrade() -> None:
    """Drop this revision's functions, hints table and keyset index; rows are untouched."""
    ctx = op.get_context()
    op.execute(DROP_OBJECTS)
    with ctx.autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{INDEX_NAME}")
