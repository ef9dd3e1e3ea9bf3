"""Performance monitoring: statement statistics, health views, snapshots, alerts, baselines.

Revision ID: 006
Revises: 005
Create Date: 2026-11-30

pg_stat_statements is created in schema "extensions" where it exists
(Supabase), else in public, when the migrating role may create it. It is not a
trusted extension, so a role without the right gets a notice instead of an
error. Whether its statistics can be read is decided when they are read: the
extension must exist and the server must preload the library, which shows as
the setting pg_stat_statements.max being defined as an integer (readable
without superuser rights; without the library a value in the configuration is
only a text placeholder). When either is missing the statement views return no rows, the
dashboard says which is missing, and the statement alerts stay silent. Its
rows are read through to_jsonb(), so the column names of PostgreSQL 13-17
(total_exec_time, later shared_blk_read_time) all work.

Nothing here is bound to the descriptor table's OID: the partition check looks
public.flavor_descriptors up by name when it runs, from pg_partitioned_table and
pg_inherits, so it answers the same before and after the table is switched to
monthly partitions.

Thresholds live in performance_thresholds; check_performance_alerts() reads
them on every run. Statement figures are the difference from the newest
snapshot when there is one, so a slow statement that stopped being slow clears
once a snapshot is taken after it. One alert stays open per condition and is
resolved when the condition clears.

Access: none of the views, tables or functions is readable or executable by
anon or authenticated. The tables carry row level security with a policy that
admits no row, so only their owner and roles that bypass row level security
(service_role) see them, and Supabase's linter finds nothing to flag.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs: this revision only adds objects and takes no lock that
# would make the application's queries wait.
from collections.abc import Sequence

from alembic import op

revision: str = "006"
down_revision: str | Sequence[str] | None = "005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The comment marks what this revision created, for the downgrade.
CREATE_EXTENSION = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_stat_statements') THEN
        BEGIN
            EXECUTE format('CREATE EXTENSION pg_stat_statements SCHEMA %I',
                           CASE WHEN to_regnamespace('extensions') IS NULL
                                THEN 'public' ELSE 'extensions' END);
            COMMENT ON EXTENSION pg_stat_statements IS
                'pg_stat_statements (created by flavatix-db revision 006)';
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_stat_statements was not created (%): statement statistics stay '
                         'unavailable until a superuser runs CREATE EXTENSION pg_stat_statements',
                         SQLERRM;
        END;
    END IF;
END;
$$;
"""

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS public.performance_thresholds (
    name text PRIMARY KEY,
    value numeric NOT NULL,
    unit text NOT NULL,
    description text NOT NULL
);
COMMENT ON TABLE public.performance_thresholds IS
    'Limits check_performance_alerts() and the monitoring views compare measurements with.';

INSERT INTO public.performance_thresholds (name, value, unit, description) VALUES
    ('slow_query_mean_ms', 20, 'ms',
     'A statement is slow when its mean execution time reaches this ...'),
    ('slow_query_min_calls', 100, 'calls',
     '... over at least this many calls (since the previous snapshot).'),
    ('cache_hit_ratio_min', 0.99, 'ratio',
     'Alert when the share of block reads served from shared buffers falls below this ...'),
    ('cache_hit_min_blocks', 10000, 'blocks',
     '... judged only over at least this many block reads (since the previous snapshot).'),
    ('long_query_seconds', 60, 's', 'Alert on a statement running longer than this.'),
    ('idle_in_transaction_seconds', 300, 's',
     'Alert on a session idle inside an open transaction for longer than this.'),
    ('lock_wait_seconds', 30, 's', 'Alert on a session waiting for a lock longer than this.'),
    ('dead_tuples_min', 10000, 'rows', 'Alert on a table with at least this many dead rows ...'),
    ('dead_tuples_ratio', 0.2, 'ratio', '... that are at least this share of its rows.'),
    ('connections_warning_ratio', 0.8, 'ratio', 'WARNING at this share of max_connections.'),
    ('connections_critical_ratio', 0.95, 'ratio', 'CRITICAL at this share of max_connections.'),
    ('wraparound_warning_remaining', 1500000000, 'transactions',
     'WARNING when fewer transaction IDs than this remain before wraparound.'),
    ('wraparound_critical_remaining', 500000000, 'transactions',
     'CRITICAL when fewer transaction IDs than this remain before wraparound.'),
    ('sequence_warning_ratio', 0.75, 'ratio', 'WARNING when a sequence used this share.'),
    ('sequence_critical_ratio', 0.9, 'ratio', 'CRITICAL when a sequence used this share.'),
    ('stale_summary_minutes', 60, 'min',
     'Summaries are stale when rows changed and the last refresh is older than this.'),
    ('partition_min_months_ahead', 1, 'months',
     'Alert when fewer future months than this have a partition.'),
    ('default_partition_max_rows', 0, 'rows',
     'Alert when the default partition holds more dated rows than this.'),
    ('missing_index_min_rows', 10000, 'rows',
     'v_missing_indexes lists tables of at least this many rows.'),
    ('unused_index_min_bytes', 10485760, 'bytes',
     'v_index_usage proposes dropping unused indexes of at least this size.')
ON CONFLICT (name) DO NOTHING;

CREATE TABLE IF NOT EXISTS public.performance_snapshots (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    captured_at timestamptz NOT NULL DEFAULT now(),
    statements_available boolean NOT NULL,
    statements_unavailable_reason text,
    connections bigint NOT NULL,
    active_connections bigint NOT NULL,
    idle_in_transaction bigint NOT NULL,
    max_connections bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL,
    cache_hit_ratio numeric,
    xact_commit bigint NOT NULL,
    xact_rollback bigint NOT NULL,
    deadlocks bigint NOT NULL,
    temp_bytes bigint NOT NULL,
    database_size_bytes bigint NOT NULL,
    dead_tuples bigint NOT NULL,
    oldest_xid_age bigint NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE public.performance_snapshots IS
    'Database-wide counters taken by capture_performance_snapshot().';

-- Statement counters, stored by a snapshot only when they changed since the
-- statement's previous row: alerts look at the difference from that row, so a
-- condition can clear, and a quiet statement costs no row per snapshot.
CREATE TABLE IF NOT EXISTS public.performance_snapshot_statements (
    snapshot_id bigint NOT NULL
        REFERENCES public.performance_snapshots (id) ON DELETE CASCADE,
    userid oid NOT NULL,
    queryid bigint NOT NULL,
    toplevel boolean NOT NULL,
    calls bigint NOT NULL,
    total_exec_ms double precision NOT NULL,
    rows bigint NOT NULL,
    shared_blks_hit bigint NOT NULL,
    shared_blks_read bigint NOT NULL,
    PRIMARY KEY (userid, queryid, toplevel, snapshot_id)
);
COMMENT ON TABLE public.performance_snapshot_statements IS
    'pg_stat_statements counters of this database, per snapshot, of statements that changed.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS ix_performance_snapshot_statements_snapshot
    ON public.performance_snapshot_statements (snapshot_id);

CREATE TABLE IF NOT EXISTS public.performance_alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_type text NOT NULL,
    alert_key text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),
    message text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    raised_at timestamptz NOT NULL DEFAULT now(),
    acknowledged boolean NOT NULL DEFAULT false,
    resolved_at timestamptz
);
COMMENT ON TABLE public.performance_alerts IS
    'Alerts raised by check_performance_alerts(); resolved_at is set when the condition clears.';
COMMENT ON COLUMN public.performance_alerts.alert_key IS
    'What the alert is about (statement, table, index, session); one open alert per type and key.';
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS ux_performance_alerts_open
    ON public.performance_alerts (alert_type, alert_key) WHERE resolved_at IS NULL;

CREATE TABLE IF NOT EXISTS public.performance_baselines (
    query_type text PRIMARY KEY,
    functions text[] NOT NULL,
    plan_after_min_ms numeric NOT NULL,
    plan_after_max_ms numeric NOT NULL,
    p95_target_ms numeric NOT NULL,
    description text NOT NULL
);
COMMENT ON TABLE public.performance_baselines IS
    'Per kind of query: the plan''s "After" range and this project''s p95 target.';

INSERT INTO public.performance_baselines
    (query_type, functions, plan_after_min_ms, plan_after_max_ms, p95_target_ms, description)
VALUES
    ('wheel_generation', ARRAY['generate_wheel_data_optimized', 'get_wheel_data_fast'],
     50, 100, 5, 'Wheel generation'),
    ('descriptor_page', ARRAY['get_descriptors_paginated'], 10, 50, 2,
     'Descriptor fetch (one page)'),
    ('autocomplete', ARRAY['autocomplete_descriptors'], 20, 50, 3, 'Autocomplete'),
    ('user_statistics', ARRAY['get_user_descriptor_stats'], 10, 30, 1, 'User statistics'),
    ('similarity_search', ARRAY['find_similar_descriptors'], 30, 100, 5, 'Similarity search'),
    ('duplicate_detection', ARRAY['find_duplicate_descriptors'], 100, 300, 20,
     'Duplicate detection')
ON CONFLICT (query_type) DO NOTHING;
"""

MONITORING_TABLES = (
    "performance_thresholds",
    "performance_snapshots",
    "performance_snapshot_statements",
    "performance_alerts",
    "performance_baselines",
)

# Statement statistics, read by name at run time so that nothing fails when
# the extension is missing or its library is not preloaded.
CREATE_STATEMENT_READERS = r"""
CREATE OR REPLACE FUNCTION public.flavatix_statement_stats_unavailable()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e
                   WHERE e.extname = 'pg_stat_statements') THEN
        RETURN 'the pg_stat_statements extension is not installed in this database: '
               'a superuser can run CREATE EXTENSION pg_stat_statements';
    END IF;
    -- Defined only when the server loaded the library at start; a value in the
    -- server's configuration without the library is a mere text placeholder.
    IF pg_catalog.current_setting('pg_stat_statements.max', true) IS NULL
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_settings s
                      WHERE s.name = 'pg_stat_statements.max' AND s.vartype = 'integer') THEN
        RETURN 'the server does not preload the pg_stat_statements library: add it to '
               'shared_preload_libraries and restart the server';
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION public.flavatix_statement_stats()
RETURNS TABLE (userid oid, queryid bigint, toplevel boolean, query text, calls bigint,
               total_exec_ms double precision, mean_exec_ms double precision,
               stddev_exec_ms double precision, max_exec_ms double precision, rows bigint,
               shared_blks_hit bigint, shared_blks_read bigint)
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    ext_schema text;
BEGIN
    IF public.flavatix_statement_stats_unavailable() IS NOT NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname::text INTO ext_schema
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_stat_statements';
    -- Column names differ across versions (total_time before 13, toplevel from 14).
    RETURN QUERY EXECUTE format(
        $q$SELECT (j ->> 'userid')::oid, (j ->> 'queryid')::bigint,
                  coalesce((j ->> 'toplevel')::boolean, true), j ->> 'query',
                  (j ->> 'calls')::bigint,
                  coalesce(j ->> 'total_exec_time', j ->> 'total_time')::float8,
                  coalesce(j ->> 'mean_exec_time', j ->> 'mean_time')::float8,
                  coalesce(j ->> 'stddev_exec_time', j ->> 'stddev_time')::float8,
                  coalesce(j ->> 'max_exec_time', j ->> 'max_time')::float8,
                  (j ->> 'rows')::bigint, (j ->> 'shared_blks_hit')::bigint,
                  (j ->> 'shared_blks_read')::bigint
           FROM %I.pg_stat_statements s
           CROSS JOIN LATERAL pg_catalog.to_jsonb(s) AS j
           WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                           WHERE d.datname = pg_catalog.current_database())
             AND s.queryid IS NOT NULL$q$,
        ext_schema);
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    -- The library is not loaded after all (SQLSTATE 55000): no statistics.
    RETURN;
END;
$$;
"""

# Partitions of a table, from the catalog: whether it is partitioned, how far
# ahead its range partitions reach, and the dated rows in its default
# partition (rows a missing partition sent there).
CREATE_PARTITION_STATUS = r"""
CREATE OR REPLACE FUNCTION public.flavatix_partition_status(p_schema text, p_table text)
RETURNS TABLE (table_name text, is_partitioned boolean, partition_count integer,
               default_partition text, default_partition_rows bigint, covers_now boolean,
               covered_until timestamptz, months_ahead integer)
LANGUAGE plpgsql STABLE
-- Owner's rights: 005 keeps the partitions in a schema that only the owner
-- may use, and the default partition's rows are counted there. Executable by
-- the owner and service_role only, like every monitoring function.
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'flavatix_partition_status';
    parent oid;
    default_oid oid;
    key_column text;
BEGIN
    IF p_schema IS NULL OR p_table IS NULL THEN
        RAISE EXCEPTION '%: p_schema and p_table must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    SELECT c.oid INTO parent
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = p_schema AND c.relname = p_table AND c.relkind IN ('r', 'p');
    IF parent IS NULL THEN
        RAISE EXCEPTION '%: no table %.%', fn, p_schema, p_table USING ERRCODE = '42P01';
    END IF;
    table_name := format('%I.%I', p_schema, p_table);
    is_partitioned := EXISTS (SELECT FROM pg_catalog.pg_partitioned_table pt
                              WHERE pt.partrelid = parent);
    IF NOT is_partitioned THEN
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT count(*)::integer INTO partition_count
    FROM pg_catalog.pg_inherits i WHERE i.inhparent = parent;

    SELECT nullif(pt.partdefid, 0), a.attname::text INTO default_oid, key_column
    FROM pg_catalog.pg_partitioned_table pt
    LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] AND a.attnum > 0
    WHERE pt.partrelid = parent;
    IF default_oid IS NOT NULL THEN
        SELECT format('%I.%I', n.nspname, c.relname) INTO default_partition
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = default_oid;
        IF key_column IS NULL THEN
            EXECUTE format('SELECT count(*) FROM %s', default_oid::regclass)
                INTO default_partition_rows;
        ELSE
            -- Rows without a date belong in the default partition; dated ones do not.
            EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NOT NULL',
                           default_oid::regclass, key_column)
                INTO default_partition_rows;
        END IF;
    END IF;

    -- Range bounds as the server prints them: FOR VALUES FROM ('...') TO ('...').
    SELECT coalesce(bool_or(b.lo <= now() AND now() < b.hi), false), max(b.hi)
      INTO covers_now, covered_until
    FROM (SELECT regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                              'FROM \(''([^'']*)''\) TO \(''([^'']*)''\)') AS m
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = parent) x
    CROSS JOIN LATERAL (SELECT x.m[1]::timestamptz AS lo, x.m[2]::timestamptz AS hi) b
    WHERE x.m IS NOT NULL;
    -- Whole months after the current one that have a partition, up to the furthest
    -- bound; a day's slack absorbs the session's time zone offset from the bounds'.
    months_ahead := ((extract(year FROM covered_until + interval '1 day') * 12
                      + extract(month FROM covered_until + interval '1 day'))
                     - (extract(year FROM now()) * 12 + extract(month FROM now())) - 1)::integer;
    RETURN NEXT;
END;
$$;
"""

THRESHOLD = "(SELECT t.value FROM public.performance_thresholds t WHERE t.name = '{}')"

CREATE_VIEWS = f"""
CREATE OR REPLACE VIEW public.v_query_performance AS
SELECT s.queryid,
       pg_catalog.pg_get_userbyid(s.userid) AS role_name,
       s.toplevel,
       s.calls,
       round(s.total_exec_ms::numeric, 2) AS total_exec_time_ms,
       round(s.mean_exec_ms::numeric, 3) AS mean_exec_time_ms,
       round(s.max_exec_ms::numeric, 3) AS max_exec_time_ms,
       s.rows,
       round(s.rows::numeric / nullif(s.calls, 0), 1) AS rows_per_call,
       round(s.shared_blks_hit::numeric
             / nullif(s.shared_blks_hit + s.shared_blks_read, 0), 4) AS cache_hit_ratio,
       round((100 * s.total_exec_ms / nullif(sum(s.total_exec_ms) OVER (), 0))::numeric, 1)
           AS share_of_total_time_pct,
       s.query
FROM public.flavatix_statement_stats() s
ORDER BY s.total_exec_ms DESC;
COMMENT ON VIEW public.v_query_performance IS
    'Statements of this database since statistics were last reset; no rows when '
    'pg_stat_statements is unavailable (see get_monitoring_dashboard()).';

CREATE OR REPLACE VIEW public.v_slow_queries AS
SELECT q.*,
       {THRESHOLD.format("slow_query_mean_ms")} AS threshold_mean_ms,
       {THRESHOLD.format("slow_query_min_calls")} AS threshold_min_calls
FROM public.v_query_performance q
WHERE q.mean_exec_time_ms >= {THRESHOLD.format("slow_query_mean_ms")}
  AND q.calls >= {THRESHOLD.format("slow_query_min_calls")}
ORDER BY q.mean_exec_time_ms DESC;
COMMENT ON VIEW public.v_slow_queries IS
    'Statements whose mean time and number of calls reach the thresholds.';

CREATE OR REPLACE VIEW public.v_index_usage AS
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.indexrelname AS index_name,
       s.idx_scan,
       s.idx_tup_read,
       s.idx_tup_fetch,
       pg_relation_size(s.indexrelid) AS index_size_bytes,
       pg_size_pretty(pg_relation_size(s.indexrelid)) AS index_size,
       i.indisunique AS is_unique,
       i.indisvalid AS is_valid,
       con.conname AS backs_constraint,
       CASE WHEN s.idx_scan = 0 THEN 'UNUSED'
            WHEN s.idx_scan < 100 THEN 'RARELY_USED'
            WHEN s.idx_scan < 10000 THEN 'MODERATELY_USED'
            ELSE 'HEAVILY_USED' END AS usage_category,
       (s.idx_scan = 0 AND NOT i.indisunique AND con.conname IS NULL
        AND pg_relation_size(s.indexrelid) >= {THRESHOLD.format("unused_index_min_bytes")})
           AS drop_candidate
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
LEFT JOIN pg_constraint con
       ON con.conindid = s.indexrelid AND con.conrelid = s.relid
      AND con.contype IN ('p', 'u', 'x')
ORDER BY s.idx_scan, pg_relation_size(s.indexrelid) DESC;
COMMENT ON VIEW public.v_index_usage IS
    'Scans per index since statistics were reset: UNUSED (0), RARELY_USED (<100), '
    'MODERATELY_USED (<10000), HEAVILY_USED; drop_candidate: unused, not unique, '
    'backs no constraint, and large.';

CREATE OR REPLACE VIEW public.v_missing_indexes AS
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.seq_scan,
       s.seq_tup_read,
       coalesce(s.idx_scan, 0) AS idx_scan,
       s.n_live_tup,
       round(s.seq_tup_read::numeric / nullif(s.seq_scan, 0)) AS avg_rows_per_seq_scan,
       round(100.0 * s.seq_scan / nullif(s.seq_scan + coalesce(s.idx_scan, 0), 0), 1)
           AS seq_scan_pct,
       pg_size_pretty(pg_total_relation_size(s.relid)) AS total_size
FROM pg_stat_user_tables s
WHERE s.seq_scan > coalesce(s.idx_scan, 0)
  AND s.n_live_tup >= {THRESHOLD.format("missing_index_min_rows")}
ORDER BY s.seq_tup_read DESC;
COMMENT ON VIEW public.v_missing_indexes IS
    'Tables of some size read mostly by sequential scans.';

CREATE OR REPLACE VIEW public.v_table_stats AS
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.n_live_tup,
       s.n_dead_tup,
       round(s.n_dead_tup::numeric / nullif(s.n_live_tup + s.n_dead_tup, 0), 4)
           AS dead_tuple_ratio,
       s.n_mod_since_analyze,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze,
       s.vacuum_count + s.autovacuum_count AS vacuums,
       s.analyze_count + s.autoanalyze_count AS analyzes,
       pg_total_relation_size(s.relid) AS total_size_bytes,
       pg_size_pretty(pg_total_relation_size(s.relid)) AS total_size,
       pg_size_pretty(pg_relation_size(s.relid)) AS table_size
FROM pg_stat_user_tables s
ORDER BY s.n_dead_tup DESC, pg_total_relation_size(s.relid) DESC;
COMMENT ON VIEW public.v_table_stats IS
    'Live and dead rows, last (auto)vacuum and analyze, and size of every table.';

CREATE OR REPLACE VIEW public.v_active_connections AS
SELECT a.pid,
       a.usename AS role_name,
       a.application_name,
       a.client_addr,
       a.backend_type,
       a.state,
       a.wait_event_type,
       a.wait_event,
       a.backend_start,
       a.xact_start,
       a.query_start,
       CASE WHEN a.state = 'active' THEN now() - a.query_start END AS query_duration,
       now() - a.xact_start AS transaction_age,
       CASE WHEN a.state LIKE 'idle in transaction%' THEN now() - a.state_change END
           AS idle_in_transaction_for,
       pg_blocking_pids(a.pid) AS blocked_by,
       a.pid = pg_backend_pid() AS is_this_session,
       left(a.query, 1000) AS query
FROM pg_stat_activity a
WHERE a.datname = current_database()
ORDER BY a.xact_start NULLS LAST, a.pid;
COMMENT ON VIEW public.v_active_connections IS
    'Sessions on this database: state, wait event, age of queries and of idle transactions.';

CREATE OR REPLACE VIEW public.v_lock_conflicts AS
SELECT w.pid AS blocked_pid,
       w.usename AS blocked_role,
       w.application_name AS blocked_application,
       now() - coalesce(l.waitstart, w.query_start) AS blocked_for,
       l.locktype,
       l.mode AS wanted_mode,
       l.relation::regclass::text AS relation,
       left(w.query, 1000) AS blocked_query,
       b.pid AS blocking_pid,
       b.usename AS blocking_role,
       b.application_name AS blocking_application,
       b.state AS blocking_state,
       now() - b.xact_start AS blocking_transaction_age,
       left(b.query, 1000) AS blocking_query
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
JOIN pg_stat_activity b ON b.pid = bp.pid
LEFT JOIN LATERAL (SELECT k.waitstart, k.locktype, k.mode, k.relation
                   FROM pg_locks k WHERE k.pid = w.pid AND NOT k.granted
                   ORDER BY k.waitstart LIMIT 1) l ON true
WHERE w.datname = current_database()
ORDER BY blocked_for DESC;
COMMENT ON VIEW public.v_lock_conflicts IS 'Who blocks whom, on what, and for how long.';

CREATE OR REPLACE VIEW public.v_invalid_indexes AS
SELECT n.nspname AS schema_name,
       t.relname AS table_name,
       c.relname AS index_name,
       i.indisready AS maintained_by_writes,
       pg_size_pretty(pg_relation_size(c.oid)) AS index_size,
       pg_get_indexdef(c.oid) AS definition,
       EXISTS (SELECT FROM pg_stat_progress_create_index p WHERE p.index_relid = c.oid)
           AS being_built,
       format('DROP INDEX CONCURRENTLY %I.%I; then build it again', n.nspname, c.relname)
           AS fix
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid
  AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema');
COMMENT ON VIEW public.v_invalid_indexes IS
    'Indexes left INVALID (by a failed CREATE INDEX CONCURRENTLY): no query uses them.';

-- An index whose key columns (with operator classes, collations and order)
-- lead another index of the same kind and predicate is covered by it; of two
-- identical ones the non-unique, else the younger, is reported.
CREATE OR REPLACE VIEW public.v_duplicate_indexes AS
SELECT DISTINCT ON (a.indexrelid)
       n.nspname AS schema_name,
       t.relname AS table_name,
       ac.relname AS index_name,
       bc.relname AS covered_by,
       CASE WHEN a.indkey::text = b.indkey::text THEN 'identical' ELSE 'prefix' END AS kind,
       pg_relation_size(a.indexrelid) AS index_size_bytes,
       pg_size_pretty(pg_relation_size(a.indexrelid)) AS index_size,
       pg_get_indexdef(a.indexrelid) AS definition,
       pg_get_indexdef(b.indexrelid) AS covering_definition
FROM pg_index a
JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
JOIN pg_class ac ON ac.oid = a.indexrelid
JOIN pg_class bc ON bc.oid = b.indexrelid
JOIN pg_class t ON t.oid = a.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema')
  AND ac.relam = bc.relam
  AND a.indisvalid AND b.indisvalid
  AND a.indexprs IS NULL AND b.indexprs IS NULL
  AND coalesce(pg_get_expr(a.indpred, a.indrelid), '')
      = coalesce(pg_get_expr(b.indpred, b.indrelid), '')
  AND ' ' || b.indkey::text || ' ' LIKE ' ' || a.indkey::text || ' %'
  AND ' ' || b.indclass::text || ' ' LIKE ' ' || a.indclass::text || ' %'
  AND ' ' || b.indcollation::text || ' ' LIKE ' ' || a.indcollation::text || ' %'
  AND ' ' || b.indoption::text || ' ' LIKE ' ' || a.indoption::text || ' %'
  AND CASE WHEN a.indkey::text = b.indkey::text
           THEN a.indisunique < b.indisunique
                OR (a.indisunique = b.indisunique AND a.indexrelid > b.indexrelid)
           ELSE NOT a.indisunique END
-- One row per redundant index: an identical twin first, else the narrowest cover.
ORDER BY a.indexrelid, a.indkey::text = b.indkey::text DESC, b.indnatts, bc.relname;
COMMENT ON VIEW public.v_duplicate_indexes IS
    'Indexes another index makes redundant: writes pay for them, no query needs them.';

CREATE OR REPLACE VIEW public.v_wraparound AS
SELECT d.datname::text AS database_name,
       age(d.datfrozenxid)::bigint AS xid_age,
       (2147483647 - age(d.datfrozenxid))::bigint AS transactions_left,
       round(100.0 * age(d.datfrozenxid) / 2147483647, 2) AS pct_towards_wraparound,
       mxid_age(d.datminmxid)::bigint AS multixact_age,
       {THRESHOLD.format("wraparound_warning_remaining")} AS warning_below,
       {THRESHOLD.format("wraparound_critical_remaining")} AS critical_below
FROM pg_database d
ORDER BY age(d.datfrozenxid) DESC;
COMMENT ON VIEW public.v_wraparound IS
    'Transaction IDs left before wraparound forces the server to stop, per database.';

CREATE OR REPLACE VIEW public.v_sequence_usage AS
SELECT s.schemaname AS schema_name,
       s.sequencename AS sequence_name,
       CASE WHEN owner_column.attname IS NOT NULL
            THEN format('%I.%I.%I', owner_table.nspname, owner_table.relname,
                        owner_column.attname) END AS owned_by,
       coalesce(s.last_value, 0) AS last_value,
       least(s.max_value::numeric, coalesce(column_max.max_value, s.max_value::numeric))
           AS max_value,
       round(coalesce(s.last_value, 0)::numeric
             / least(s.max_value::numeric,
                     coalesce(column_max.max_value, s.max_value::numeric)), 4) AS used_ratio
FROM pg_sequences s
JOIN pg_namespace sn ON sn.nspname = s.schemaname
JOIN pg_class sc ON sc.relnamespace = sn.oid AND sc.relname = s.sequencename
LEFT JOIN pg_depend dep
       ON dep.classid = 'pg_class'::regclass AND dep.objid = sc.oid
      AND dep.refclassid = 'pg_class'::regclass AND dep.refobjsubid > 0
      AND dep.deptype IN ('a', 'i')
LEFT JOIN pg_attribute owner_column
       ON owner_column.attrelid = dep.refobjid AND owner_column.attnum = dep.refobjsubid
LEFT JOIN LATERAL (SELECT c.relname, ns.nspname FROM pg_class c
                   JOIN pg_namespace ns ON ns.oid = c.relnamespace
                   WHERE c.oid = dep.refobjid) owner_table ON true
LEFT JOIN LATERAL (SELECT CASE owner_column.atttypid
                              WHEN 'int2'::regtype THEN 32767::numeric
                              WHEN 'int4'::regtype THEN 2147483647::numeric
                          END AS max_value) column_max ON true
WHERE s.increment_by > 0
ORDER BY used_ratio DESC;
COMMENT ON VIEW public.v_sequence_usage IS
    'How much of each ascending sequence is used, against its own and its column''s limit.';

CREATE OR REPLACE VIEW public.v_partition_status AS
SELECT p.*,
       {THRESHOLD.format("partition_min_months_ahead")} AS min_months_ahead,
       {THRESHOLD.format("default_partition_max_rows")} AS max_default_partition_rows
FROM public.flavatix_partition_status('public', 'flavor_descriptors') p;
COMMENT ON VIEW public.v_partition_status IS
    'Whether flavor_descriptors is partitioned, how many months ahead its partitions '
    'reach and how many dated rows sit in its default partition.';

CREATE OR REPLACE VIEW public.v_summary_age AS
SELECT l.view_name,
       l.last_refreshed_at,
       now() - l.last_refreshed_at AS age,
       c.records_since_refresh,
       {THRESHOLD.format("stale_summary_minutes")} AS stale_after_minutes,
       (l.last_refreshed_at IS NULL
        OR (c.records_since_refresh > 0
            AND now() - l.last_refreshed_at
                > make_interval(mins => {THRESHOLD.format("stale_summary_minutes")}::integer)))
           AS is_stale
FROM public.mv_refresh_log l
CROSS JOIN (SELECT coalesce(sum(x.changed_rows), 0)::bigint AS records_since_refresh
            FROM public.mv_refresh_changes x) c
ORDER BY l.last_refreshed_at NULLS FIRST, l.view_name;
COMMENT ON VIEW public.v_summary_age IS
    'Age of each summary refresh_descriptor_views() keeps, and whether it is stale.';

-- Measurements of the functions behind each kind of query, beside both
-- targets. Only queries count (SELECT or WITH, as PostgREST sends them with
-- quoted names), not the DDL that created the functions. pg_stat_statements
-- keeps no percentiles: p95 is estimated as mean + 1.645 standard deviations
-- (pooled over the call shapes), at most the slowest call.
CREATE OR REPLACE VIEW public.v_baseline_comparison AS
WITH statements AS MATERIALIZED (
    SELECT s.* FROM public.flavatix_statement_stats() s
    WHERE s.toplevel AND s.query ~* '^\\s*(select|with)\\M'
), measured AS (
    SELECT b.query_type,
           sum(s.calls) AS calls,
           sum(s.total_exec_ms) / nullif(sum(s.calls), 0) AS mean_ms,
           sum(s.calls * (s.stddev_exec_ms ^ 2 + s.mean_exec_ms ^ 2))
               / nullif(sum(s.calls), 0) AS mean_square,
           max(s.max_exec_ms) AS max_ms
    FROM public.performance_baselines b
    JOIN statements s
      ON s.query ~* ('\\m(' || array_to_string(b.functions, '|') || ')"?\\s*\\(')
    GROUP BY b.query_type
)
SELECT b.query_type,
       b.functions,
       coalesce(m.calls, 0)::bigint AS calls,
       round(m.mean_ms::numeric, 3) AS mean_ms,
       round(least(m.max_ms, m.mean_ms
                   + 1.645 * sqrt(greatest(m.mean_square - m.mean_ms ^ 2, 0)))::numeric, 3)
           AS p95_estimate_ms,
       round(m.max_ms::numeric, 3) AS max_ms,
       b.plan_after_min_ms,
       b.plan_after_max_ms,
       b.p95_target_ms,
       m.mean_ms <= b.plan_after_max_ms AS within_plan_after,
       least(m.max_ms, m.mean_ms + 1.645 * sqrt(greatest(m.mean_square - m.mean_ms ^ 2, 0)))
           <= b.p95_target_ms AS within_p95_target
FROM public.performance_baselines b
LEFT JOIN measured m ON m.query_type = b.query_type
ORDER BY b.query_type;
COMMENT ON VIEW public.v_baseline_comparison IS
    'Measured time of each kind of query beside the plan''s "After" range and the p95 target.';
"""

VIEWS = (
    "v_query_performance",
    "v_slow_queries",
    "v_index_usage",
    "v_missing_indexes",
    "v_table_stats",
    "v_active_connections",
    "v_lock_conflicts",
    "v_invalid_indexes",
    "v_duplicate_indexes",
    "v_wraparound",
    "v_sequence_usage",
    "v_partition_status",
    "v_summary_age",
    "v_baseline_comparison",
)

CREATE_SNAPSHOT = """
CREATE OR REPLACE FUNCTION public.capture_performance_snapshot()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
    reason text := public.flavatix_statement_stats_unavailable();
    new_id bigint;
BEGIN
    INSERT INTO public.performance_snapshots AS p
        (statements_available, statements_unavailable_reason, connections, active_connections,
         idle_in_transaction, max_connections, blks_hit, blks_read, cache_hit_ratio,
         xact_commit, xact_rollback, deadlocks, temp_bytes, database_size_bytes, dead_tuples,
         oldest_xid_age, details)
    SELECT reason IS NULL, reason, a.connections, a.active, a.idle_in_transaction,
           pg_catalog.current_setting('max_connections')::bigint,
           d.blks_hit, d.blks_read,
           round(d.blks_hit::numeric / nullif(d.blks_hit + d.blks_read, 0), 4),
           d.xact_commit, d.xact_rollback, d.deadlocks, d.temp_bytes,
           pg_catalog.pg_database_size(d.datid),
           (SELECT coalesce(sum(t.n_dead_tup), 0) FROM pg_catalog.pg_stat_user_tables t),
           (SELECT max(pg_catalog.age(x.datfrozenxid)) FROM pg_catalog.pg_database x),
           jsonb_build_object('stats_reset', d.stats_reset)
    FROM pg_catalog.pg_stat_database d
    CROSS JOIN (SELECT count(*) AS connections,
                       count(*) FILTER (WHERE s.state = 'active') AS active,
                       count(*) FILTER (WHERE s.state LIKE 'idle in transaction%')
                           AS idle_in_transaction
                FROM pg_catalog.pg_stat_activity s
                WHERE s.backend_type = 'client backend') a
    WHERE d.datname = pg_catalog.current_database()
    RETURNING p.id INTO new_id;

    INSERT INTO public.performance_snapshot_statements
        (snapshot_id, userid, queryid, toplevel, calls, total_exec_ms, rows, shared_blks_hit,
         shared_blks_read)
    SELECT new_id, s.userid, s.queryid, s.toplevel, s.calls, s.total_exec_ms, s.rows,
           s.shared_blks_hit, s.shared_blks_read
    FROM public.flavatix_statement_stats() s
    LEFT JOIN LATERAL (SELECT p.calls FROM public.performance_snapshot_statements p
                       WHERE p.userid = s.userid AND p.queryid = s.queryid
                         AND p.toplevel = s.toplevel
                       ORDER BY p.snapshot_id DESC LIMIT 1) last ON true
    WHERE last.calls IS DISTINCT FROM s.calls
    ON CONFLICT DO NOTHING;
    RETURN new_id;
END;
$$;
"""

# Every condition that holds now, one row per thing it is about. Statement and
# cache figures are taken since the newest snapshot, when there is one.
CREATE_CONDITIONS = r"""
CREATE OR REPLACE FUNCTION public.flavatix_alert_conditions()
RETURNS TABLE (alert_type text, alert_key text, severity text, message text, details jsonb)
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    t jsonb;
    prev public.performance_snapshots;
    prev_statements bigint;
BEGIN
    SELECT jsonb_object_agg(x.name, x.value) INTO t FROM public.performance_thresholds x;
    SELECT * INTO prev FROM public.performance_snapshots x
    ORDER BY x.captured_at DESC, x.id DESC LIMIT 1;
    SELECT max(x.id) INTO prev_statements FROM public.performance_snapshots x
    WHERE x.statements_available;

    -- Slow statements (silent when pg_stat_statements is unavailable). Only
    -- top-level ones: a call's time includes the statements inside it, which
    -- v_slow_queries lists for drilling down.
    RETURN QUERY
    WITH cur AS (
        -- The statement's counters as of the newest snapshot: its latest row up to it.
        SELECT s.*, p.calls AS prev_calls, p.total_exec_ms AS prev_total
        FROM public.flavatix_statement_stats() s
        LEFT JOIN LATERAL (SELECT x.calls, x.total_exec_ms
                           FROM public.performance_snapshot_statements x
                           WHERE x.userid = s.userid AND x.queryid = s.queryid
                             AND x.toplevel = s.toplevel AND x.snapshot_id <= prev_statements
                           ORDER BY x.snapshot_id DESC LIMIT 1) p ON true
    ), delta AS (
        SELECT c.*,
               CASE WHEN c.prev_calls IS NULL OR c.prev_calls > c.calls THEN c.calls
                    ELSE c.calls - c.prev_calls END AS d_calls,
               CASE WHEN c.prev_calls IS NULL OR c.prev_calls > c.calls THEN c.total_exec_ms
                    ELSE c.total_exec_ms - c.prev_total END AS d_total
        FROM cur c
    )
    SELECT 'slow_query', format('%s/%s/%s', d.userid, d.queryid, d.toplevel), 'WARNING',
           format('statement %s averaged %s ms over %s calls since %s (threshold: %s ms over '
                  'at least %s calls): %s',
                  d.queryid, round((d.d_total / d.d_calls)::numeric, 1), d.d_calls,
                  coalesce(prev.captured_at::text, 'statistics were reset'),
                  t ->> 'slow_query_mean_ms', t ->> 'slow_query_min_calls',
                  left(d.query, 200)),
           jsonb_build_object('queryid', d.queryid, 'role', pg_catalog.pg_get_userbyid(d.userid),
                              'calls', d.d_calls,
                              'mean_ms', round((d.d_total / d.d_calls)::numeric, 3),
                              'since', prev.captured_at,
                              'threshold_mean_ms', t -> 'slow_query_mean_ms',
                              'threshold_min_calls', t -> 'slow_query_min_calls',
                              'query', left(d.query, 1000))
    FROM delta d
    WHERE d.toplevel AND d.d_calls > 0
      AND d.d_calls >= (t ->> 'slow_query_min_calls')::numeric
      AND d.d_total / d.d_calls >= (t ->> 'slow_query_mean_ms')::numeric;

    -- Cache hit ratio of this database.
    RETURN QUERY
    WITH cur AS (
        SELECT CASE WHEN prev.id IS NULL OR d.blks_hit < prev.blks_hit
                         OR d.blks_read < prev.blks_read
                    THEN d.blks_hit ELSE d.blks_hit - prev.blks_hit END AS hits,
               CASE WHEN prev.id IS NULL OR d.blks_hit < prev.blks_hit
                         OR d.blks_read < prev.blks_read
                    THEN d.blks_read ELSE d.blks_read - prev.blks_read END AS reads
        FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()
    )
    SELECT 'low_cache_hit', 'database', 'WARNING',
           format('cache hit ratio %s over %s block reads since %s (threshold: %s)',
                  round(c.hits::numeric / (c.hits + c.reads), 4), c.hits + c.reads,
                  coalesce(prev.captured_at::text, 'statistics were reset'),
                  t ->> 'cache_hit_ratio_min'),
           jsonb_build_object('ratio', round(c.hits::numeric / (c.hits + c.reads), 4),
                              'blocks', c.hits + c.reads, 'since', prev.captured_at,
                              'threshold', t -> 'cache_hit_ratio_min')
    FROM cur c
    WHERE c.hits + c.reads > 0
      AND c.hits + c.reads >= (t ->> 'cache_hit_min_blocks')::numeric
      AND c.hits::numeric / (c.hits + c.reads) < (t ->> 'cache_hit_ratio_min')::numeric;

    -- Long-running statements, sessions idle in a transaction, lock waits.
    RETURN QUERY
    SELECT 'long_running_query',
           format('%s@%s', a.pid, extract(epoch FROM a.query_start)), 'WARNING',
           format('session %s (%s) has run one statement for %s (threshold: %s s): %s',
                  a.pid, a.usename, date_trunc('second', now() - a.query_start),
                  t ->> 'long_query_seconds', left(a.query, 200)),
           jsonb_build_object('pid', a.pid, 'role', a.usename,
                              'seconds', round(extract(epoch FROM now() - a.query_start)),
                              'threshold_seconds', t -> 'long_query_seconds',
                              'query', left(a.query, 1000))
    FROM pg_catalog.pg_stat_activity a
    WHERE a.datname = pg_catalog.current_database() AND a.backend_type = 'client backend'
      AND a.pid <> pg_catalog.pg_backend_pid() AND a.state = 'active'
      AND now() - a.query_start
          > make_interval(secs => (t ->> 'long_query_seconds')::double precision);

    RETURN QUERY
    SELECT 'idle_in_transaction',
           format('%s@%s', a.pid, extract(epoch FROM a.xact_start)), 'WARNING',
           format('session %s (%s) has been idle in a transaction for %s (threshold: %s s); '
                  'its locks and snapshot stay held',
                  a.pid, a.usename, date_trunc('second', now() - a.state_change),
                  t ->> 'idle_in_transaction_seconds'),
           jsonb_build_object('pid', a.pid, 'role', a.usename, 'state', a.state,
                              'seconds', round(extract(epoch FROM now() - a.state_change)),
                              'threshold_seconds', t -> 'idle_in_transaction_seconds',
                              'last_query', left(a.query, 1000))
    FROM pg_catalog.pg_stat_activity a
    WHERE a.datname = pg_catalog.current_database()
      AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
      AND now() - a.state_change
          > make_interval(secs => (t ->> 'idle_in_transaction_seconds')::double precision);

    RETURN QUERY
    SELECT 'lock_wait', format('%s@%s', a.pid, extract(epoch FROM l.waitstart)), 'WARNING',
           format('session %s (%s) has waited %s for a %s lock held by %s (threshold: %s s)',
                  a.pid, a.usename, date_trunc('second', now() - l.waitstart), l.mode,
                  pg_catalog.array_to_string(pg_catalog.pg_blocking_pids(a.pid), ', '),
                  t ->> 'lock_wait_seconds'),
           jsonb_build_object('pid', a.pid, 'role', a.usename,
                              'blocked_by', to_jsonb(pg_catalog.pg_blocking_pids(a.pid)),
                              'mode', l.mode, 'relation', l.relation::pg_catalog.regclass::text,
                              'seconds', round(extract(epoch FROM now() - l.waitstart)),
                              'threshold_seconds', t -> 'lock_wait_seconds',
                              'query', left(a.query, 1000))
    FROM pg_catalog.pg_stat_activity a
    JOIN LATERAL (SELECT k.waitstart, k.mode, k.relation FROM pg_catalog.pg_locks k
                  WHERE k.pid = a.pid AND NOT k.granted AND k.waitstart IS NOT NULL
                  ORDER BY k.waitstart LIMIT 1) l ON true
    WHERE a.datname = pg_catalog.current_database()
      AND now() - l.waitstart
          > make_interval(secs => (t ->> 'lock_wait_seconds')::double precision);

    -- Dead rows that (auto)vacuum has not reclaimed.
    RETURN QUERY
    SELECT 'dead_tuples', format('%I.%I', s.schemaname, s.relname), 'WARNING',
           format('%s.%s has %s dead rows, %s%% of its rows (thresholds: %s rows and %s%%); '
                  'last vacuum %s, last autovacuum %s',
                  s.schemaname, s.relname, s.n_dead_tup,
                  round(100.0 * s.n_dead_tup / (s.n_live_tup + s.n_dead_tup), 1),
                  t ->> 'dead_tuples_min',
                  round(100 * (t ->> 'dead_tuples_ratio')::numeric, 1),
                  coalesce(s.last_vacuum::text, 'never'),
                  coalesce(s.last_autovacuum::text, 'never')),
           jsonb_build_object('table', format('%I.%I', s.schemaname, s.relname),
                              'dead_tuples', s.n_dead_tup, 'live_tuples', s.n_live_tup,
                              'threshold_rows', t -> 'dead_tuples_min',
                              'threshold_ratio', t -> 'dead_tuples_ratio')
    FROM pg_catalog.pg_stat_user_tables s
    WHERE s.n_dead_tup >= (t ->> 'dead_tuples_min')::numeric
      AND s.n_dead_tup >= (t ->> 'dead_tuples_ratio')::numeric * (s.n_live_tup + s.n_dead_tup);

    -- Connections against max_connections (the whole server).
    RETURN QUERY
    WITH c AS (
        SELECT count(*) AS n, pg_catalog.current_setting('max_connections')::numeric AS max_n
        FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'
    )
    SELECT 'connections', 'server',
           CASE WHEN c.n >= c.max_n * (t ->> 'connections_critical_ratio')::numeric
                THEN 'CRITICAL' ELSE 'WARNING' END,
           format('%s of max_connections %s in use (thresholds: %s%% warning, %s%% critical)',
                  c.n, c.max_n, round(100 * (t ->> 'connections_warning_ratio')::numeric),
                  round(100 * (t ->> 'connections_critical_ratio')::numeric)),
           jsonb_build_object('connections', c.n, 'max_connections', c.max_n,
                              'warning_ratio', t -> 'connections_warning_ratio',
                              'critical_ratio', t -> 'connections_critical_ratio')
    FROM c
    WHERE c.n >= c.max_n * (t ->> 'connections_warning_ratio')::numeric;

    -- Transaction-ID wraparound headroom of every database on the server.
    RETURN QUERY
    SELECT 'wraparound', d.datname::text,
           CASE WHEN 2147483647 - pg_catalog.age(d.datfrozenxid)
                     < (t ->> 'wraparound_critical_remaining')::numeric
                THEN 'CRITICAL' ELSE 'WARNING' END,
           format('database %s has %s transaction IDs left before wraparound (thresholds: %s '
                  'warning, %s critical): VACUUM (FREEZE) its oldest tables',
                  d.datname, 2147483647 - pg_catalog.age(d.datfrozenxid),
                  t ->> 'wraparound_warning_remaining', t ->> 'wraparound_critical_remaining'),
           jsonb_build_object('database', d.datname, 'xid_age', pg_catalog.age(d.datfrozenxid),
                              'transactions_left', 2147483647 - pg_catalog.age(d.datfrozenxid),
                              'warning_below', t -> 'wraparound_warning_remaining',
                              'critical_below', t -> 'wraparound_critical_remaining')
    FROM pg_catalog.pg_database d
    WHERE 2147483647 - pg_catalog.age(d.datfrozenxid)
          < (t ->> 'wraparound_warning_remaining')::numeric;

    -- Invalid indexes (not those a concurrent build is still making).
    RETURN QUERY
    SELECT 'invalid_index', format('%I.%I', v.schema_name, v.index_name), 'WARNING',
           format('index %s.%s on %s is INVALID: no query uses it%s; %s',
                  v.schema_name, v.index_name, v.table_name,
                  CASE WHEN v.maintained_by_writes THEN ' but every write still updates it'
                       ELSE '' END, v.fix),
           jsonb_build_object('index', format('%I.%I', v.schema_name, v.index_name),
                              'table', v.table_name, 'definition', v.definition,
                              'size', v.index_size, 'fix', v.fix)
    FROM public.v_invalid_indexes v
    WHERE NOT v.being_built;

    -- Sequences running out.
    RETURN QUERY
    SELECT 'sequence_exhaustion', format('%I.%I', v.schema_name, v.sequence_name),
           CASE WHEN v.used_ratio >= (t ->> 'sequence_critical_ratio')::numeric
                THEN 'CRITICAL' ELSE 'WARNING' END,
           format('sequence %s.%s has used %s%% of its range (%s of %s; thresholds %s%% and %s%%)',
                  v.schema_name, v.sequence_name, round(100 * v.used_ratio, 1), v.last_value,
                  v.max_value, round(100 * (t ->> 'sequence_warning_ratio')::numeric),
                  round(100 * (t ->> 'sequence_critical_ratio')::numeric)),
           jsonb_build_object('sequence', format('%I.%I', v.schema_name, v.sequence_name),
                              'owned_by', v.owned_by, 'last_value', v.last_value,
                              'max_value', v.max_value, 'used_ratio', v.used_ratio)
    FROM public.v_sequence_usage v
    WHERE v.used_ratio >= (t ->> 'sequence_warning_ratio')::numeric;

    -- Summaries not refreshed although rows changed.
    RETURN QUERY
    SELECT 'stale_summaries', 'summaries', 'WARNING',
           format('%s summaries are stale: %s rows changed since the oldest refresh (%s); '
                  'threshold %s minutes; run SELECT public.refresh_descriptor_views()',
                  count(*), max(v.records_since_refresh),
                  coalesce(min(v.last_refreshed_at)::text, 'never'),
                  t ->> 'stale_summary_minutes'),
           jsonb_build_object('views', jsonb_agg(v.view_name ORDER BY v.view_name),
                              'oldest_refresh', min(v.last_refreshed_at),
                              'records_since_refresh', max(v.records_since_refresh),
                              'threshold_minutes', t -> 'stale_summary_minutes')
    FROM public.v_summary_age v
    WHERE v.is_stale
    HAVING count(*) > 0;

    -- Partitions of flavor_descriptors, once it is partitioned.
    RETURN QUERY
    SELECT 'partition_coverage', p.table_name,
           CASE WHEN NOT p.covers_now THEN 'CRITICAL' ELSE 'WARNING' END,
           format('%s: partitions reach %s month(s) ahead, until %s (threshold: %s); %s',
                  p.table_name, coalesce(p.months_ahead::text, 'no'),
                  coalesce(p.covered_until::text, 'nowhere'),
                  t ->> 'partition_min_months_ahead',
                  CASE WHEN NOT p.covers_now
                       THEN 'no partition covers now: new rows go to the default partition'
                       ELSE 'create the next months'' partitions' END),
           jsonb_build_object('table', p.table_name, 'months_ahead', p.months_ahead,
                              'covered_until', p.covered_until, 'covers_now', p.covers_now,
                              'threshold_months', t -> 'partition_min_months_ahead')
    FROM public.v_partition_status p
    WHERE p.is_partitioned
      AND (NOT p.covers_now
           OR coalesce(p.months_ahead, -1) < (t ->> 'partition_min_months_ahead')::numeric);

    RETURN QUERY
    SELECT 'default_partition_rows', p.default_partition, 'WARNING',
           format('%s holds %s dated rows (threshold: %s): create the partitions they '
                  'belong to and move them there',
                  p.default_partition, p.default_partition_rows,
                  t ->> 'default_partition_max_rows'),
           jsonb_build_object('partition', p.default_partition,
                              'rows', p.default_partition_rows,
                              'threshold', t -> 'default_partition_max_rows')
    FROM public.v_partition_status p
    WHERE p.is_partitioned
      AND p.default_partition_rows > (t ->> 'default_partition_max_rows')::numeric;
END;
$$;
"""

CREATE_CHECK = """
CREATE OR REPLACE FUNCTION public.check_performance_alerts()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
    statements_known boolean := public.flavatix_statement_stats_unavailable() IS NULL;
    conditions jsonb;
    raised integer;
BEGIN
    SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]') INTO conditions
    FROM public.flavatix_alert_conditions() c;

    -- Cleared conditions close their alert. Slow statements are not judged
    -- while statement statistics are unavailable, so theirs stay as they are.
    UPDATE public.performance_alerts a SET resolved_at = now()
    WHERE a.resolved_at IS NULL
      AND (statements_known OR a.alert_type <> 'slow_query')
      AND NOT conditions @> jsonb_build_array(
              jsonb_build_object('alert_type', a.alert_type, 'alert_key', a.alert_key));

    -- An open alert keeps its row and follows the latest figures.
    UPDATE public.performance_alerts a
    SET severity = c.severity, message = c.message, details = c.details
    FROM jsonb_to_recordset(conditions)
         AS c(alert_type text, alert_key text, severity text, message text, details jsonb)
    WHERE a.resolved_at IS NULL AND c.alert_type = a.alert_type AND c.alert_key = a.alert_key;

    INSERT INTO public.performance_alerts (alert_type, alert_key, severity, message, details)
    SELECT c.alert_type, c.alert_key, c.severity, c.message, c.details
    FROM jsonb_to_recordset(conditions)
         AS c(alert_type text, alert_key text, severity text, message text, details jsonb)
    ON CONFLICT (alert_type, alert_key) WHERE resolved_at IS NULL DO NOTHING;
    GET DIAGNOSTICS raised = ROW_COUNT;
    RETURN raised;
END;
$$;
"""

CREATE_DASHBOARD = """
CREATE OR REPLACE FUNCTION public.get_monitoring_dashboard()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    t jsonb;
    reason text := public.flavatix_statement_stats_unavailable();
    result jsonb;
BEGIN
    SELECT jsonb_object_agg(x.name, x.value) INTO t FROM public.performance_thresholds x;
    SELECT jsonb_build_object(
        'generated_at', now(),
        'database', pg_catalog.current_database(),
        'server_version', pg_catalog.current_setting('server_version'),
        'thresholds', t,
        'statement_statistics', jsonb_build_object(
            'available', reason IS NULL,
            'reason', reason,
            'extension_schema', (SELECT n.nspname FROM pg_catalog.pg_extension e
                                 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                                 WHERE e.extname = 'pg_stat_statements')),
        'connections', (
            SELECT jsonb_build_object(
                'total', count(*),
                'active', count(*) FILTER (WHERE a.state = 'active'),
                'idle_in_transaction',
                    count(*) FILTER (WHERE a.state LIKE 'idle in transaction%'),
                'max_connections', pg_catalog.current_setting('max_connections')::integer,
                'used_ratio', round(count(*)
                    / pg_catalog.current_setting('max_connections')::numeric, 4),
                'warning_ratio', t -> 'connections_warning_ratio',
                'critical_ratio', t -> 'connections_critical_ratio')
            FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'),
        'cache_hit', (
            SELECT jsonb_build_object(
                'ratio', round(d.blks_hit::numeric / nullif(d.blks_hit + d.blks_read, 0), 4),
                'blocks', d.blks_hit + d.blks_read,
                'since', d.stats_reset,
                'target', t -> 'cache_hit_ratio_min')
            FROM pg_catalog.pg_stat_database d
            WHERE d.datname = pg_catalog.current_database()),
        'top_queries', (
            SELECT coalesce(jsonb_agg(to_jsonb(q)), '[]') FROM (
                SELECT v.queryid, v.calls, v.total_exec_time_ms, v.mean_exec_time_ms,
                       v.cache_hit_ratio, v.share_of_total_time_pct, left(v.query, 300) AS query
                FROM public.v_query_performance v LIMIT 10) q),
        'slow_queries', (
            SELECT coalesce(jsonb_agg(to_jsonb(q)), '[]') FROM (
                SELECT v.queryid, v.calls, v.mean_exec_time_ms, v.threshold_mean_ms,
                       v.threshold_min_calls, left(v.query, 300) AS query
                FROM public.v_slow_queries v LIMIT 10) q),
        'long_running_queries', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'pid', v.pid, 'seconds', round(extract(epoch FROM v.query_duration)),
                       'threshold_seconds', t -> 'long_query_seconds',
                       'query', left(v.query, 300))), '[]')
            FROM public.v_active_connections v
            WHERE NOT v.is_this_session AND v.query_duration
                > make_interval(secs => (t ->> 'long_query_seconds')::double precision)),
        'idle_in_transaction', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'pid', v.pid,
                       'seconds', round(extract(epoch FROM v.idle_in_transaction_for)),
                       'threshold_seconds', t -> 'idle_in_transaction_seconds')), '[]')
            FROM public.v_active_connections v WHERE v.idle_in_transaction_for IS NOT NULL),
        'lock_conflicts', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'blocked_pid', v.blocked_pid, 'blocking_pid', v.blocking_pid,
                       'seconds', round(extract(epoch FROM v.blocked_for)),
                       'relation', v.relation, 'wanted_mode', v.wanted_mode,
                       'threshold_seconds', t -> 'lock_wait_seconds')), '[]')
            FROM public.v_lock_conflicts v),
        'tables', (
            SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM (
                SELECT v.schema_name, v.table_name, v.n_live_tup, v.n_dead_tup,
                       v.dead_tuple_ratio, v.last_vacuum, v.last_autovacuum, v.total_size,
                       t -> 'dead_tuples_min' AS threshold_dead_rows,
                       t -> 'dead_tuples_ratio' AS threshold_dead_ratio
                FROM public.v_table_stats v LIMIT 10) x),
        'unused_indexes', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'index', v.index_name, 'table', v.table_name, 'size', v.index_size,
                       'drop_candidate', v.drop_candidate)), '[]')
            FROM public.v_index_usage v
            WHERE v.usage_category = 'UNUSED' AND v.backs_constraint IS NULL),
        'invalid_indexes', (
            SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]') FROM public.v_invalid_indexes v),
        'duplicate_indexes', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'index', v.index_name, 'covered_by', v.covered_by, 'kind', v.kind,
                       'size', v.index_size)), '[]')
            FROM public.v_duplicate_indexes v),
        'missing_indexes', (
            SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]') FROM public.v_missing_indexes v),
        'wraparound', (
            SELECT to_jsonb(v) FROM public.v_wraparound v
            WHERE v.database_name = pg_catalog.current_database()),
        'sequences', (
            SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM (
                SELECT v.*, t -> 'sequence_warning_ratio' AS warning_ratio
                FROM public.v_sequence_usage v LIMIT 5) x),
        'partitions', (SELECT to_jsonb(v) FROM public.v_partition_status v),
        'summaries', (
            SELECT jsonb_build_object(
                'stale', coalesce(bool_or(v.is_stale), false),
                'oldest_refresh', min(v.last_refreshed_at),
                'records_since_refresh', max(v.records_since_refresh),
                'stale_after_minutes', t -> 'stale_summary_minutes')
            FROM public.v_summary_age v),
        'baselines', (
            SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]') FROM public.v_baseline_comparison v),
        'open_alerts', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'id', a.id, 'alert_type', a.alert_type, 'severity', a.severity,
                       'message', a.message, 'raised_at', a.raised_at,
                       'acknowledged', a.acknowledged) ORDER BY a.raised_at), '[]')
            FROM public.performance_alerts a WHERE a.resolved_at IS NULL),
        'latest_snapshot', (
            SELECT jsonb_build_object('id', s.id, 'captured_at', s.captured_at)
            FROM public.performance_snapshots s
            ORDER BY s.captured_at DESC, s.id DESC LIMIT 1))
    INTO result;
    RETURN result;
END;
$$;

CREATE OR REPLACE FUNCTION public.cleanup_monitoring_data(p_retention_days integer DEFAULT 30)
RETURNS TABLE (snapshots_deleted bigint, alerts_deleted bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'cleanup_monitoring_data';
    cutoff timestamptz;
BEGIN
    IF p_retention_days IS NULL THEN
        RAISE EXCEPTION '%: p_retention_days must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_retention_days < 1 THEN
        RAISE EXCEPTION '%: p_retention_days must be at least 1, not %', fn, p_retention_days
            USING ERRCODE = '22023';
    END IF;
    cutoff := now() - make_interval(days => p_retention_days);
    -- The newest snapshot stays: the next alert check measures from it.
    DELETE FROM public.performance_snapshots s
    WHERE s.captured_at < cutoff
      AND s.id <> (SELECT x.id FROM public.performance_snapshots x
                   ORDER BY x.captured_at DESC, x.id DESC LIMIT 1);
    GET DIAGNOSTICS snapshots_deleted = ROW_COUNT;
    -- Open alerts stay whatever their age.
    DELETE FROM public.performance_alerts a WHERE a.resolved_at < cutoff;
    GET DIAGNOSTICS alerts_deleted = ROW_COUNT;
    RETURN NEXT;
END;
$$;
"""

COMMENT_FUNCTIONS = """
COMMENT ON FUNCTION public.capture_performance_snapshot() IS
    'Records database and statement counters; returns the new snapshot''s id.';
COMMENT ON FUNCTION public.check_performance_alerts() IS
    'Raises an alert per condition that holds now, resolves cleared ones; returns how many '
    'it raised. Thresholds: performance_thresholds. Run before capture_performance_snapshot().';
COMMENT ON FUNCTION public.get_monitoring_dashboard() IS
    'Measurements beside their thresholds and targets, open alerts, as one jsonb document.';
COMMENT ON FUNCTION public.cleanup_monitoring_data(integer) IS
    'Deletes snapshots and resolved alerts older than p_retention_days days.';
"""

FUNCTIONS = (
    "flavatix_statement_stats_unavailable()",
    "flavatix_statement_stats()",
    "flavatix_partition_status(text, text)",
    "capture_performance_snapshot()",
    "flavatix_alert_conditions()",
    "check_performance_alerts()",
    "get_monitoring_dashboard()",
    "cleanup_monitoring_data(integer)",
)


def close_to_api_roles() -> str:
    """Row level security admitting no row on the tables; no grants to PUBLIC or API roles."""
    tables = ", ".join(f"'{name}'" for name in MONITORING_TABLES)
    views = ", ".join(f"'{name}'" for name in VIEWS)
    functions = ", ".join(f"'{name}'" for name in FUNCTIONS)
    return f"""
DO $$
DECLARE
    obj text;
    r text;
BEGIN
    FOREACH obj IN ARRAY ARRAY[{tables}] LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', obj);
        EXECUTE format('DROP POLICY IF EXISTS no_api_access ON public.%I', obj);
        EXECUTE format('CREATE POLICY no_api_access ON public.%I USING (false) '
                       'WITH CHECK (false)', obj);
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', obj);
    END LOOP;
    FOREACH obj IN ARRAY ARRAY[{views}] LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', obj);
    END LOOP;
    FOREACH obj IN ARRAY ARRAY[{functions}] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM PUBLIC', obj);
    END LOOP;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r);
        FOREACH obj IN ARRAY ARRAY[{tables}, {views}] LOOP
            EXECUTE format('REVOKE ALL ON public.%I FROM %I', obj, r);
        END LOOP;
        FOREACH obj IN ARRAY ARRAY[{functions}] LOOP
            EXECUTE format('REVOKE ALL ON FUNCTION public.%s FROM %I', obj, r);
        END LOOP;
    END LOOP;
END;
$$;
"""


def drop_objects() -> str:
    """This revision's own objects, dependents first; callers of 004 never had them."""
    lines = ["-- Monitoring history goes with the tables; no descriptor row is touched."]
    for name in reversed(VIEWS):
        lines += ["-- squawk-ignore ban-drop-view", f"DROP VIEW IF EXISTS public.{name};"]
    for name in reversed(FUNCTIONS):
        lines += ["-- squawk-ignore ban-drop-function", f"DROP FUNCTION IF EXISTS public.{name};"]
    for name in reversed(MONITORING_TABLES):
        lines += ["-- squawk-ignore ban-drop-table", f"DROP TABLE IF EXISTS public.{name};"]
    return "\n".join(lines) + "\n"


DROP_EXTENSION_IF_OURS = """
DO $$
BEGIN
    IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'pg_stat_statements'),
                       'pg_extension') LIKE '%flavatix-db revision 006%' THEN
        BEGIN
            DROP EXTENSION pg_stat_statements;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'keeping extension pg_stat_statements: other objects use it';
        END;
    END IF;
END;
$$;
"""


# Where `flavatix-db maintain` records each run of the plan's scheduled jobs
# (`flavatix-db status` shows the last ones); pg_cron keeps its own record.
# Not exposed by the API: only the owner and service_role use the schema.
CREATE_JOB_RUNS = """
CREATE SCHEMA IF NOT EXISTS flavatix_ops;
COMMENT ON SCHEMA flavatix_ops IS 'flavatix-db 006: runs of the maintenance jobs';
REVOKE ALL ON SCHEMA flavatix_ops FROM PUBLIC;

CREATE TABLE IF NOT EXISTS flavatix_ops.job_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job text NOT NULL CHECK (job IN ('snapshot', 'alerts', 'refresh', 'partitions', 'cleanup')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('ok', 'skipped', 'failed')),
    detail text,
    error text,
    runner text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE flavatix_ops.job_runs IS
    'One row per run of a maintenance job by flavatix-db maintain';
CREATE INDEX IF NOT EXISTS ix_job_runs_job_started
    ON flavatix_ops.job_runs (job, started_at DESC);

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA flavatix_ops TO service_role;
        GRANT SELECT, INSERT, DELETE ON flavatix_ops.job_runs TO service_role;
    END IF;
END;
$$;
"""

DROP_JOB_RUNS = """
-- Only the record of past maintenance runs; no descriptor lives here.
-- squawk-ignore ban-drop-schema
DROP SCHEMA IF EXISTS flavatix_ops CASCADE;
"""


def upgrade() -> None:
    """Add pg_stat_statements, the monitoring views, tables and functions."""
    op.execute(CREATE_EXTENSION)
    op.execute(CREATE_TABLES)
    op.execute(CREATE_STATEMENT_READERS)
    op.execute(CREATE_PARTITION_STATUS)
    op.execute(CREATE_VIEWS)
    op.execute(CREATE_SNAPSHOT)
    op.execute(CREATE_CONDITIONS)
    op.execute(CREATE_CHECK)
    op.execute(CREATE_DASHBOARD)
    op.execute(COMMENT_FUNCTIONS)
    op.execute(close_to_api_roles())
    op.execute(CREATE_JOB_RUNS)


def downgrade() -> None:
    """Drop the monitoring objects, and pg_stat_statements if 006 made it and nobody uses it."""
    op.execute(DROP_JOB_RUNS)
    op.execute(drop_objects())
    op.execute(DROP_EXTENSION_IF_OURS)
