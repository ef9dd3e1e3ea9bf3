-- What change tracking adds to a single-row INSERT: 40 alternating rounds of
-- 300 single-row INSERT statements with revision 003's insert trigger enabled
-- and disabled, timed inside the server; every row is rolled back. Not on a
-- live database: ALTER TABLE locks flavor_descriptors until the rollback.
-- psql "$DATABASE_URL" -f scripts/insert_cost.sql
BEGIN;
CREATE TEMP TABLE insert_timings (mode text, ms float8);
DO $$
DECLARE
    t0 timestamptz;
    mode text;
BEGIN
    FOR round IN 1..40 LOOP
        FOREACH mode IN ARRAY ARRAY['ENABLE', 'DISABLE'] LOOP
            EXECUTE format('ALTER TABLE public.flavor_descriptors %s TRIGGER '
                           'flavor_descriptors_count_inserts', mode);
            t0 := clock_timestamp();
            FOR i IN 1..300 LOOP
                INSERT INTO public.flavor_descriptors
                    (user_id, source_type, source_id, descriptor_text, descriptor_type,
                     created_at)
                VALUES (gen_random_uuid(), 'quick_review', gen_random_uuid(), 'cherry', 'aroma',
                        now());
            END LOOP;
            INSERT INTO insert_timings
            VALUES (mode, extract(epoch FROM clock_timestamp() - t0) * 1000 / 300);
        END LOOP;
    END LOOP;
END;
$$;
SELECT CASE mode WHEN 'ENABLE' THEN 'with tracking' ELSE 'without' END AS insert,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS median_ms
FROM insert_timings GROUP BY mode ORDER BY 1 DESC;
ROLLBACK;
