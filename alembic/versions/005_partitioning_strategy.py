"""Partitioning strategy: flavor_descriptors by month of created_at, switched over online.

Revision ID: 005
Revises: 004
Create Date: 2026-11-30

What this revision makes, and what it leaves to an explicit step:
- schema flavatix_partitions: the partitioned table (until it is switched in),
  its monthly partitions and default partition (always), the key table that
  keeps the unique keys global, the switch-over machinery and its state;
- schema flavatix_unpartitioned: the plain table after the switch, kept in
  step with the live one until `flavatix-db partition cleanup` drops it;
- the helpers of the plan (create_descriptor_partition, ensure_future_partitions,
  archive_old_partitions, detach_partition, migrate_to_partitioned_table,
  run_partition_maintenance, analyze_all_partitions, get_partition_for_date)
  and public.partition_maintenance_log.

Neither schema is exposed by Supabase's API, so the partitions, which do not
carry the parent's row level security, are unreachable over HTTP.

An empty flavor_descriptors is switched during the upgrade. A populated one is
switched by `flavatix-db partition migrate` (or repeated calls of
migrate_to_partitioned_table(n, false)): a trigger mirrors every write to the
partitioned copy, committed batches copy the rest (each ends after 250 ms:
a writer of one of its rows waits for it), the materialized views are rebuilt
over the copy, both tables are compared (count and checksums of every column)
in a step of their own, and the names are swapped under locks taken with a
short lock_timeout. The downgrade moves back the same way.

Unique keys: a partitioned table can only enforce keys that contain created_at.
The primary key becomes (id, created_at); id, 000's one text per source and
001's one spelling per source stay global through flavatix_partitions.
flavor_descriptor_keys, which triggers keep in step and whose unique indexes
carry the original names, so a duplicate fails as before (SQLSTATE 23505).
created_at becomes NOT NULL (it is the partition key): the switch refuses while
rows have none and says how to give them one.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs: until the switch, nothing it reads or writes changes.
from collections.abc import Sequence

from alembic import op

revision: str = "005"
down_revision: str | Sequence[str] | None = "004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_SCHEMAS = """
CREATE SCHEMA IF NOT EXISTS flavatix_partitions;
COMMENT ON SCHEMA flavatix_partitions IS
    'flavatix-db 005: monthly partitions of flavor_descriptors, the key table and the switch-over';
CREATE SCHEMA IF NOT EXISTS flavatix_unpartitioned;
COMMENT ON SCHEMA flavatix_unpartitioned IS
    'flavatix-db 005: the plain flavor_descriptors while the partitioned one is live';
REVOKE ALL ON SCHEMA flavatix_partitions, flavatix_unpartitioned FROM PUBLIC;

CREATE TABLE IF NOT EXISTS public.partition_maintenance_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL,
    partition_name text,
    rows_affected bigint,
    detail text,
    db_user text NOT NULL DEFAULT current_user
);
COMMENT ON TABLE public.partition_maintenance_log IS
    'One row per partition action of flavatix-db 005 (create, move, detach, analyze, switch)';
-- Enabling it again is harmless, so a re-run is safe.
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.partition_maintenance_log ENABLE ROW LEVEL SECURITY;

-- One row: where a switch-over stands. plain_unique_ddl keeps the plain
-- table's unique keys, to rebuild them when moving back.
CREATE TABLE IF NOT EXISTS flavatix_partitions.migration_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    target text CHECK (target IN ('partitioned', 'unpartitioned')),
    phase text NOT NULL DEFAULT 'idle'
        CHECK (phase IN ('idle', 'copying', 'views', 'switch')),
    copy_cursor uuid,
    rows_copied bigint NOT NULL DEFAULT 0,
    rows_total bigint NOT NULL DEFAULT 0,
    started_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz,
    last_check jsonb,
    plain_unique_ddl jsonb NOT NULL DEFAULT '[]'
);
INSERT INTO flavatix_partitions.migration_state DEFAULT VALUES ON CONFLICT DO NOTHING;
"""

# Where the plain table's unique keys are recorded, once, while it is live.
RECORD_PLAIN_KEYS = """
UPDATE flavatix_partitions.migration_state
SET plain_unique_ddl = (
    SELECT coalesce(jsonb_agg(ddl ORDER BY ddl), '[]')
    FROM (
        SELECT format('ALTER TABLE %%s ADD CONSTRAINT %I %s', c.conname,
                      pg_get_constraintdef(c.oid)) AS ddl
        FROM pg_constraint c
        WHERE c.conrelid = 'public.flavor_descriptors'::regclass AND c.contype IN ('p', 'u')
        UNION ALL
        SELECT regexp_replace(pg_get_indexdef(i.indexrelid),
                              ' ON public\\.flavor_descriptors ', ' ON %s ')
        FROM pg_index i
        WHERE i.indrelid = 'public.flavor_descriptors'::regclass AND i.indisunique
          AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ) AS keys)
WHERE (SELECT relkind FROM pg_class WHERE oid = 'public.flavor_descriptors'::regclass) = 'r'
  AND plain_unique_ddl = '[]';
"""

# Internal helpers: schema flavatix_partitions, executable by the owner only.
CREATE_INTERNALS = r"""
-- The table of the given kind, wherever it is: public when it is live.
CREATE OR REPLACE FUNCTION flavatix_partitions.table_of_kind(p_kind text)
RETURNS regclass
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT c.oid::regclass
    FROM pg_catalog.pg_class c
    WHERE c.relname = 'flavor_descriptors'
      AND c.relkind = CASE p_kind WHEN 'partitioned' THEN 'p' ELSE 'r' END
      AND c.relnamespace IN ('public'::regnamespace,
                             CASE p_kind WHEN 'partitioned'
                                  THEN 'flavatix_partitions'::regnamespace
                                  ELSE 'flavatix_unpartitioned'::regnamespace END)
    ORDER BY c.relnamespace = 'public'::regnamespace DESC
    LIMIT 1
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.live_kind()
RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT CASE relkind WHEN 'p' THEN 'partitioned' ELSE 'unpartitioned' END
    FROM pg_catalog.pg_class WHERE oid = 'public.flavor_descriptors'::regclass
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.log(
    p_action text, p_partition text, p_rows bigint, p_detail text)
RETURNS void
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO public.partition_maintenance_log (action, partition_name, rows_affected, detail)
    VALUES (p_action, p_partition, p_rows, p_detail)
$$;

-- Take table locks with a short lock_timeout, retrying, so that no
-- application statement queues behind us for long. Locks taken in the
-- subtransaction stay held until the caller's transaction ends.
CREATE OR REPLACE FUNCTION flavatix_partitions.lock_tables(
    p_tables regclass[], p_mode text,
    p_timeout text DEFAULT '200ms', p_attempts integer DEFAULT 20)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_mode NOT IN ('SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE') THEN
        RAISE EXCEPTION 'lock_tables: unexpected lock mode %', p_mode USING ERRCODE = '22023';
    END IF;
    FOR attempt IN 1 .. p_attempts LOOP
        BEGIN
            PERFORM pg_catalog.set_config('lock_timeout', p_timeout, true);
            EXECUTE format('LOCK TABLE %s IN %s MODE',
                           (SELECT string_agg(t::text, ', ') FROM unnest(p_tables) t), p_mode);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_catalog.pg_sleep(least(0.05 * attempt, 1.0));
        END;
    END LOOP;
    RAISE EXCEPTION 'could not lock % within % after % attempts: the tables are busy',
                    array_to_string(p_tables, ', '), p_timeout, p_attempts
        USING ERRCODE = '55P03',
              HINT = 'Try again when fewer long transactions or refreshes are running.';
END;
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.partition_name(p_month date)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = ''
AS $$ SELECT 'flavor_descriptors_p' || pg_catalog.to_char(p_month, 'YYYY_MM') $$;

-- The partition for the month that starts at p_month, created when missing.
-- Rows of that month waiting in the default partition move into it in the
-- same transaction, which locks only the default partition (briefly) and
-- takes SHARE UPDATE EXCLUSIVE on the parent: readers and writers continue.
CREATE OR REPLACE FUNCTION flavatix_partitions.create_month(p_parent regclass, p_month date)
RETURNS text
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    name text := flavatix_partitions.partition_name(p_month);
    lo timestamptz := p_month::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (p_month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    existing regclass := pg_catalog.to_regclass(format('flavatix_partitions.%I', name));
    dflt regclass;
    moved bigint := 0::bigint;
BEGIN
    IF existing IS NOT NULL THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_inherits
                   WHERE inhrelid = existing AND inhparent = p_parent) THEN
            RETURN name;
        END IF;
        RAISE EXCEPTION 'a table flavatix_partitions.% exists but is not a partition of %',
                        name, p_parent
            USING ERRCODE = '42P07',
                  HINT = 'It is probably a detached (archived) month: '
                         'attach it again or rename it.';
    END IF;
    SELECT i.inhrelid::regclass INTO dflt
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = p_parent AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';

    EXECUTE format('CREATE TABLE flavatix_partitions.%I (LIKE %s INCLUDING DEFAULTS '
                   'INCLUDING CONSTRAINTS INCLUDING STORAGE)', name, p_parent);
    -- A valid CHECK that implies the bound spares ATTACH a scan of the new table.
    EXECUTE format('ALTER TABLE flavatix_partitions.%I ADD CONSTRAINT %I '
                   'CHECK (created_at >= %L AND created_at < %L)', name, name || '_bound', lo, hi);
    IF dflt IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %s WHERE created_at >= %L AND created_at < %L',
                       dflt, lo, hi) INTO moved;
        IF moved > 0 THEN
            PERFORM flavatix_partitions.lock_tables(ARRAY[dflt], 'ACCESS EXCLUSIVE');
            -- The rows stay in the table throughout: the key table and any
            -- mirror must not see this delete as a deletion.
            PERFORM pg_catalog.set_config('flavatix.moving_rows', 'on', true);
            EXECUTE format('WITH moved AS (DELETE FROM %s WHERE created_at >= %L '
                           'AND created_at < %L RETURNING *) '
                           'INSERT INTO flavatix_partitions.%I SELECT * FROM moved',
                           dflt, lo, hi, name);
            GET DIAGNOSTICS moved = ROW_COUNT;
            PERFORM pg_catalog.set_config('flavatix.moving_rows', 'off', true);
        END IF;
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION flavatix_partitions.%I '
                   'FOR VALUES FROM (%L) TO (%L)', p_parent, name, lo, hi);
    EXECUTE format('ALTER TABLE flavatix_partitions.%I DROP CONSTRAINT %I', name, name || '_bound');
    EXECUTE format('ALTER TABLE flavatix_partitions.%I ENABLE ROW LEVEL SECURITY', name);
    PERFORM flavatix_partitions.log('create', name, moved,
                                    CASE WHEN moved > 0
                                         THEN 'moved rows from the default partition' END);
    RETURN name;
END;
$$;

-- Triggers that keep the unique keys global. A row moving between
-- partitions is a delete and an insert; only a row moved out of the default
-- partition by create_month keeps its key.
CREATE OR REPLACE FUNCTION flavatix_partitions.keep_keys()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'flavor_descriptors_default'
           AND current_setting('flavatix.moving_rows', true) = 'on' THEN
            RETURN NULL;
        END IF;
        DELETE FROM flavatix_partitions.flavor_descriptor_keys WHERE id = OLD.id;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        INSERT INTO flavatix_partitions.flavor_descriptor_keys
            (id, source_type, source_id, descriptor_text, normalized_form, descriptor_type)
        VALUES (NEW.id, NEW.source_type, NEW.source_id, NEW.descriptor_text,
                NEW.normalized_form, NEW.descriptor_type);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.truncate_keys()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    TRUNCATE flavatix_partitions.flavor_descriptor_keys;
    RETURN NULL;
END;
$$;

-- Column list of the live table, in order, for generated statements.
CREATE OR REPLACE FUNCTION flavatix_partitions.columns(p_table regclass, p_prefix text DEFAULT '')
RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT string_agg(p_prefix || quote_ident(attname), ', ' ORDER BY attnum)
    FROM pg_catalog.pg_attribute
    WHERE attrelid = p_table AND attnum > 0 AND NOT attisdropped
$$;

-- Mirror every write on p_source into p_target: a generated row trigger
-- (delete the old version, insert the new one) and a TRUNCATE trigger.
CREATE OR REPLACE FUNCTION flavatix_partitions.install_mirror(p_source regclass, p_target regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    fn text := CASE WHEN p_target::text LIKE 'flavatix_partitions.%'
                    THEN 'mirror_to_partitioned' ELSE 'mirror_to_unpartitioned' END;
    cols text := flavatix_partitions.columns(p_source);
BEGIN
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION flavatix_partitions.%1$I()
        RETURNS trigger
        LANGUAGE plpgsql
        SECURITY DEFINER
        SET search_path = ''
        AS $body$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                TRUNCATE %2$s;
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'flavor_descriptors_default'
                   AND current_setting('flavatix.moving_rows', true) = 'on' THEN
                    RETURN NULL;
                END IF;
                DELETE FROM %2$s WHERE id = OLD.id AND created_at = OLD.created_at;
                IF OLD.created_at IS NULL THEN
                    DELETE FROM %2$s WHERE id = OLD.id AND created_at IS NULL;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                IF NEW.created_at IS NULL THEN
                    RAISE EXCEPTION 'flavor_descriptors: created_at must not be NULL (it is '
                                    'the partition key)' USING ERRCODE = '23502';
                END IF;
                INSERT INTO %2$s (%3$s) VALUES (%4$s);
            END IF;
            RETURN NULL;
        END;
        $body$
    $f$, fn, p_target, cols, flavatix_partitions.columns(p_source, 'NEW.'));
    EXECUTE format('REVOKE ALL ON FUNCTION flavatix_partitions.%I() FROM PUBLIC', fn);
    PERFORM flavatix_partitions.lock_tables(ARRAY[p_source], 'SHARE ROW EXCLUSIVE');
    EXECUTE format('DROP TRIGGER IF EXISTS flavatix_partition_mirror ON %s', p_source);
    EXECUTE format('DROP TRIGGER IF EXISTS flavatix_partition_mirror_truncate ON %s', p_source);
    EXECUTE format('CREATE TRIGGER flavatix_partition_mirror AFTER INSERT OR UPDATE OR DELETE '
                   'ON %s FOR EACH ROW EXECUTE FUNCTION flavatix_partitions.%I()', p_source, fn);
    EXECUTE format('CREATE TRIGGER flavatix_partition_mirror_truncate AFTER TRUNCATE '
                   'ON %s FOR EACH STATEMENT EXECUTE FUNCTION flavatix_partitions.%I()',
                   p_source, fn);
END;
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.drop_mirror(p_source regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger
               WHERE tgrelid = p_source AND tgname LIKE 'flavatix\_partition\_mirror%'
                 AND tgparentid = 0) THEN
        PERFORM flavatix_partitions.lock_tables(ARRAY[p_source], 'SHARE ROW EXCLUSIVE');
        EXECUTE format('DROP TRIGGER IF EXISTS flavatix_partition_mirror ON %s', p_source);
        EXECUTE format('DROP TRIGGER IF EXISTS flavatix_partition_mirror_truncate ON %s',
                       p_source);
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION flavatix_partitions.has_mirror(p_source regclass)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger
                   WHERE tgrelid = p_source AND tgname = 'flavatix_partition_mirror'
                     AND tgparentid = 0)
$$;

-- The partitioned table, created empty in flavatix_partitions: every column,
-- default and check of the live table, the primary key (id, created_at), the
-- live table's other indexes (each one then exists on every partition), its
-- foreign keys, the key table, and partitions from the oldest row's month to
-- three months ahead, plus the default partition.
CREATE OR REPLACE FUNCTION flavatix_partitions.create_partitioned(p_like regclass)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    parent regclass;
    r record;
    m date;
BEGIN
    EXECUTE format('CREATE TABLE flavatix_partitions.flavor_descriptors (LIKE %s INCLUDING '
                   'DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) '
                   'PARTITION BY RANGE (created_at)', p_like);
    parent := pg_catalog.to_regclass('flavatix_partitions.flavor_descriptors');
    ALTER TABLE flavatix_partitions.flavor_descriptors
        ADD CONSTRAINT flavor_descriptors_pkey PRIMARY KEY (id, created_at);
    FOR r IN SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def
             FROM pg_catalog.pg_index i
             WHERE i.indrelid = p_like AND NOT i.indisunique
             ORDER BY i.indexrelid LOOP
        EXECUTE regexp_replace(r.def, ' ON (ONLY )?public\.flavor_descriptors ',
                               ' ON flavatix_partitions.flavor_descriptors ');
    END LOOP;
    FOR r IN SELECT conname, pg_catalog.pg_get_constraintdef(oid) AS def
             FROM pg_catalog.pg_constraint WHERE conrelid = p_like AND contype = 'f' LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', parent, r.conname, r.def);
    END LOOP;

    CREATE TABLE IF NOT EXISTS flavatix_partitions.flavor_descriptor_keys (
        id uuid CONSTRAINT flavor_descriptor_keys_pkey PRIMARY KEY,
        source_type text NOT NULL,
        source_id uuid NOT NULL,
        descriptor_text text NOT NULL,
        normalized_form text NOT NULL,
        descriptor_type text NOT NULL,
        CONSTRAINT flavor_descriptors_source_descriptor_key
            UNIQUE (source_type, source_id, descriptor_text, descriptor_type),
        CONSTRAINT uq_flavor_descriptors_source_normalized_type
            UNIQUE (source_type, source_id, normalized_form, descriptor_type));
    TRUNCATE flavatix_partitions.flavor_descriptor_keys;
    CREATE TRIGGER flavatix_partition_keys AFTER INSERT OR UPDATE OR DELETE
        ON flavatix_partitions.flavor_descriptors
        FOR EACH ROW EXECUTE FUNCTION flavatix_partitions.keep_keys();
    CREATE TRIGGER flavatix_partition_keys_truncate AFTER TRUNCATE
        ON flavatix_partitions.flavor_descriptors
        FOR EACH STATEMENT EXECUTE FUNCTION flavatix_partitions.truncate_keys();

    CREATE TABLE flavatix_partitions.flavor_descriptors_default
        PARTITION OF flavatix_partitions.flavor_descriptors DEFAULT;
    ALTER TABLE flavatix_partitions.flavor_descriptors_default ENABLE ROW LEVEL SECURITY;
    -- A partition for every (UTC) month that holds rows, and for this month
    -- and the next three; rows of any other month go to the default one.
    FOR m IN EXECUTE format(
            'SELECT DISTINCT date_trunc(''month'', created_at AT TIME ZONE ''UTC'')::date '
            'FROM %s WHERE created_at IS NOT NULL '
            'UNION SELECT (date_trunc(''month'', now() AT TIME ZONE ''UTC'') '
            '              + make_interval(months => i))::date FROM generate_series(0, 3) i '
            'ORDER BY 1', p_like) LOOP
        PERFORM flavatix_partitions.create_month(parent, m);
    END LOOP;
    RETURN parent;
END;
$$;

-- A plain table shaped like the partitioned one, with the unique keys the
-- plain table had (recorded by this revision), for moving back.
CREATE OR REPLACE FUNCTION flavatix_partitions.create_unpartitioned(p_like regclass)
RETURNS regclass
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    plain regclass;
    ddl text;
    r record;
BEGIN
    EXECUTE format('CREATE TABLE flavatix_unpartitioned.flavor_descriptors (LIKE %s INCLUDING '
                   'DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)', p_like);
    plain := pg_catalog.to_regclass('flavatix_unpartitioned.flavor_descriptors');
    ALTER TABLE flavatix_unpartitioned.flavor_descriptors ALTER COLUMN created_at DROP NOT NULL;
    FOR ddl IN SELECT jsonb_array_elements_text(plain_unique_ddl)
               FROM flavatix_partitions.migration_state LOOP
        EXECUTE format(ddl, plain);
    END LOOP;
    FOR r IN SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def
             FROM pg_catalog.pg_index i
             WHERE i.indrelid = p_like AND NOT i.indisunique
             ORDER BY i.indexrelid LOOP
        EXECUTE regexp_replace(r.def, ' ON (ONLY )?public\.flavor_descriptors ',
                               ' ON flavatix_unpartitioned.flavor_descriptors ');
    END LOOP;
    FOR r IN SELECT conname, pg_catalog.pg_get_constraintdef(oid) AS def
             FROM pg_catalog.pg_constraint
             WHERE conrelid = p_like AND contype = 'f' AND conparentid = 0 LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', plain, r.conname, r.def);
    END LOOP;
    RETURN plain;
END;
$$;

-- Views and materialized views that read flavor_descriptors, directly or
-- through one another, with their depth (1 = reads the table).
CREATE OR REPLACE FUNCTION flavatix_partitions.dependent_views()
RETURNS TABLE (view_name name, depth integer, relkind "char")
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    WITH RECURSIVE deps(oid, depth) AS (
        SELECT r.ev_class, 1
        FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
        WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
          AND d.refclassid = 'pg_catalog.pg_class'::regclass
          AND d.refobjid = 'public.flavor_descriptors'::regclass
          AND r.ev_class <> d.refobjid
        UNION
        SELECT r.ev_class, deps.depth + 1
        FROM deps
        JOIN pg_catalog.pg_depend d
          ON d.refobjid = deps.oid AND d.classid = 'pg_catalog.pg_rewrite'::regclass
         AND d.refclassid = 'pg_catalog.pg_class'::regclass
        JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
        WHERE r.ev_class <> deps.oid
    )
    SELECT c.relname, max(deps.depth)::integer, c.relkind
    FROM deps JOIN pg_catalog.pg_class c ON c.oid = deps.oid
    WHERE c.relnamespace = 'public'::regnamespace
    GROUP BY c.relname, c.relkind
$$;

-- Refuse what a switch cannot carry over.
CREATE OR REPLACE FUNCTION flavatix_partitions.check_switchable()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    bound text;
    referencing text;
    nulls bigint;
BEGIN
    SELECT string_agg(p.oid::regprocedure::text, ', ') INTO bound
    FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_proc'::regclass
      AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND (d.refobjid = 'public.flavor_descriptors'::regclass
           OR d.refobjid IN (SELECT format('public.%I', view_name)::regclass
                             FROM flavatix_partitions.dependent_views()));
    IF bound IS NOT NULL THEN
        RAISE EXCEPTION 'cannot switch flavor_descriptors: % bound to it (SQL-standard body)',
                        bound
            USING ERRCODE = '55000',
                  HINT = 'Recreate those functions with a plain SQL or PL/pgSQL body first.';
    END IF;
    SELECT string_agg(conname || ' on ' || conrelid::regclass::text, ', ') INTO referencing
    FROM pg_catalog.pg_constraint
    WHERE confrelid = 'public.flavor_descriptors'::regclass AND contype = 'f';
    IF referencing IS NOT NULL THEN
        RAISE EXCEPTION 'cannot switch flavor_descriptors: foreign keys reference it (%)',
                        referencing
            USING ERRCODE = '55000';
    END IF;
    IF flavatix_partitions.live_kind() = 'unpartitioned' THEN
        SELECT count(*) INTO nulls FROM public.flavor_descriptors WHERE created_at IS NULL;
        IF nulls > 0 THEN
            RAISE EXCEPTION 'cannot partition flavor_descriptors: % rows have no created_at, '
                            'the partition key', nulls
                USING ERRCODE = '23502',
                      HINT = 'Give them one first, for example: UPDATE public.flavor_descriptors '
                             'SET created_at = coalesce(updated_at, now()) '
                             'WHERE created_at IS NULL;';
        END IF;
    END IF;
END;
$$;

-- One replacement view, built over the incoming table in its schema: the
-- definition is printed with public names unqualified and run with the
-- incoming schema first on the search path, so it reads the incoming table
-- and the replacements built before it.
CREATE OR REPLACE FUNCTION flavatix_partitions.build_view(p_view text, p_schema text)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    src regclass := format('public.%I', p_view)::regclass;
    cls record;
    def text;
    idx record;
    acl record;
BEGIN
    SELECT relkind, relispopulated, reloptions INTO cls FROM pg_catalog.pg_class WHERE oid = src;
    PERFORM pg_catalog.set_config('search_path', 'public', true);
    def := pg_catalog.pg_get_viewdef(src);
    PERFORM pg_catalog.set_config('search_path', format('%I, public', p_schema), true);
    IF cls.relkind = 'm' THEN
        EXECUTE format('CREATE MATERIALIZED VIEW %I.%I %s AS %s WITH %s', p_schema, p_view,
                       CASE WHEN cls.reloptions IS NOT NULL
                            THEN format('WITH (%s)', array_to_string(cls.reloptions, ', '))
                            ELSE '' END,
                       rtrim(def, ';' || chr(10) || ' '),
                       CASE WHEN cls.relispopulated THEN 'DATA' ELSE 'NO DATA' END);
    ELSE
        EXECUTE format('CREATE VIEW %I.%I %s AS %s', p_schema, p_view,
                       CASE WHEN cls.reloptions IS NOT NULL
                            THEN format('WITH (%s)', array_to_string(cls.reloptions, ', '))
                            ELSE '' END,
                       rtrim(def, ';' || chr(10) || ' '));
    END IF;
    PERFORM pg_catalog.set_config('search_path', '', true);
    FOR idx IN SELECT pg_catalog.pg_get_indexdef(indexrelid) AS def
               FROM pg_catalog.pg_index WHERE indrelid = src LOOP
        EXECUTE replace(idx.def, format(' ON %s ', src), format(' ON %I.%I ', p_schema, p_view));
    END LOOP;
    FOR acl IN SELECT a.privilege_type, a.grantee
               FROM pg_catalog.pg_class c, aclexplode(c.relacl) a
               WHERE c.oid = src AND a.grantee <> c.relowner LOOP
        EXECUTE format('GRANT %s ON %I.%I TO %s', acl.privilege_type, p_schema, p_view,
                       CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_catalog.pg_get_userbyid(acl.grantee)) END);
    END LOOP;
    IF pg_catalog.obj_description(src, 'pg_class') IS NOT NULL THEN
        EXECUTE format('COMMENT ON %s %I.%I IS %L',
                       CASE cls.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                       p_schema, p_view, pg_catalog.obj_description(src, 'pg_class'));
    END IF;
END;
$$;

-- Count and two order-free hashes of every column of every row, for both
-- tables in one statement, so both are read in the same snapshot.
CREATE OR REPLACE FUNCTION flavatix_partitions.compare(p_live regclass, p_incoming regclass)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    cols text := flavatix_partitions.columns(p_live);
    result jsonb;
    sums text := 'SELECT count(*) AS count, sum(hashtextextended(r::text, 0)::numeric) AS sum0, '
                 'sum(hashtextextended(r::text, 1)::numeric) AS sum1 '
                 'FROM (SELECT ROW(%s) AS r FROM %s) t';
BEGIN
    EXECUTE format('SELECT jsonb_build_object(''live'', (SELECT to_jsonb(a) FROM (%s) a), '
                   '''incoming'', (SELECT to_jsonb(b) FROM (%s) b))',
                   format(sums, cols, p_live), format(sums, cols, p_incoming))
        INTO result;
    RETURN result || jsonb_build_object('equal', result -> 'live' = result -> 'incoming',
                                        'checked_at', now());
END;
$$;

-- What a compare vouches for: this copy, fed by this mirror trigger, enabled.
-- The trigger's catalog row gets a new xmin when it is disabled, enabled or
-- made again, so any of those after a compare shows.
CREATE OR REPLACE FUNCTION flavatix_partitions.copy_stamp(p_live regclass, p_incoming regclass)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT jsonb_build_object('stamp', jsonb_build_object(
        'incoming', p_incoming::oid,
        'mirror', (SELECT t.xmin::text FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = p_live AND t.tgname = 'flavatix_partition_mirror'
                     AND t.tgparentid = 0 AND t.tgenabled IN ('O', 'A'))))
$$;

-- The swap, all catalog changes: the views over the live table are dropped
-- and the incoming table, with its views built beforehand, takes the name.
-- The outgoing table keeps receiving every write until cleanup, so moving
-- back is the same quick swap. Runs with the short lock_timeout of switch().
CREATE OR REPLACE FUNCTION flavatix_partitions.swap(p_incoming regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    live regclass := 'public.flavor_descriptors'::regclass;
    out_schema text := CASE flavatix_partitions.live_kind()
                            WHEN 'partitioned' THEN 'flavatix_partitions'
                            ELSE 'flavatix_unpartitioned' END;
    in_schema text := (SELECT relnamespace::regnamespace::text FROM pg_catalog.pg_class
                       WHERE oid = p_incoming);
    v record;
    r record;
BEGIN
    -- Readers of a view wait for it from here, readers of the table from
    -- the LOCK on; both only until this transaction commits.
    FOR v IN SELECT view_name, relkind FROM flavatix_partitions.dependent_views()
             ORDER BY depth DESC LOOP
        EXECUTE format('DROP %s public.%I',
                       CASE v.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                       v.view_name);
    END LOOP;
    EXECUTE format('LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE', live, p_incoming);
    PERFORM flavatix_partitions.drop_mirror(live);
    -- Triggers: the incoming table takes the live one's, the outgoing one
    -- keeps only this revision's own.
    FOR r IN SELECT tgname, pg_catalog.pg_get_triggerdef(oid) AS def, tgenabled
             FROM pg_catalog.pg_trigger
             WHERE tgrelid = live AND NOT tgisinternal AND tgparentid = 0
               AND tgname NOT LIKE 'flavatix\_partition\_%' LOOP
        EXECUTE replace(r.def, format(' ON %s ', live), format(' ON %s ', p_incoming));
        IF r.tgenabled = 'D' THEN
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', p_incoming, r.tgname);
        END IF;
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, live);
    END LOOP;
    -- Row level security, policies, grants and the comment.
    FOR r IN SELECT polname FROM pg_catalog.pg_policy WHERE polrelid = p_incoming LOOP
        EXECUTE format('DROP POLICY %I ON %s', r.polname, p_incoming);
    END LOOP;
    FOR r IN SELECT p.polname,
                    CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END AS kind,
                    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                  WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE'
                                  ELSE 'ALL' END AS cmd,
                    (SELECT string_agg(CASE WHEN role = 0 THEN 'PUBLIC'
                                            ELSE quote_ident(pg_catalog.pg_get_userbyid(role))
                                       END, ', ')
                     FROM unnest(p.polroles) role) AS roles,
                    pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS withcheck
             FROM pg_catalog.pg_policy p WHERE p.polrelid = live LOOP
        EXECUTE format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', r.polname, p_incoming,
                       r.kind, r.cmd, r.roles,
                       CASE WHEN r.qual IS NOT NULL THEN format(' USING (%s)', r.qual) END,
                       CASE WHEN r.withcheck IS NOT NULL
                            THEN format(' WITH CHECK (%s)', r.withcheck) END);
    END LOOP;
    SELECT relrowsecurity, relforcerowsecurity, relacl, relowner INTO r
    FROM pg_catalog.pg_class WHERE oid = live;
    EXECUTE format('ALTER TABLE %s %s ROW LEVEL SECURITY', p_incoming,
                   CASE WHEN r.relrowsecurity THEN 'ENABLE' ELSE 'DISABLE' END);
    EXECUTE format('ALTER TABLE %s %s FORCE ROW LEVEL SECURITY', p_incoming,
                   CASE WHEN r.relforcerowsecurity THEN '' ELSE 'NO' END);
    FOR v IN SELECT a.privilege_type, a.grantee FROM aclexplode(r.relacl) a
             WHERE a.grantee <> r.relowner LOOP
        EXECUTE format('GRANT %s ON %s TO %s', v.privilege_type, p_incoming,
                       CASE WHEN v.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_catalog.pg_get_userbyid(v.grantee)) END);
    END LOOP;
    EXECUTE format('COMMENT ON TABLE %s IS %L', p_incoming,
                   pg_catalog.obj_description(live, 'pg_class'));

    EXECUTE format('ALTER TABLE public.flavor_descriptors SET SCHEMA %I', out_schema);
    EXECUTE format('ALTER TABLE %s SET SCHEMA public', p_incoming);
    FOR v IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
             WHERE c.relnamespace = in_schema::regnamespace AND c.relkind IN ('v', 'm')
             ORDER BY c.oid LOOP
        EXECUTE format('ALTER %s %I.%I SET SCHEMA public',
                       CASE v.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                       in_schema, v.relname);
    END LOOP;
    PERFORM flavatix_partitions.install_mirror(
        'public.flavor_descriptors'::regclass,
        format('%I.flavor_descriptors', out_schema)::regclass);
END;
$$;

-- The swap with a lock_timeout well under a second, retried: an
-- application statement waits at most that long for one attempt.
CREATE OR REPLACE FUNCTION flavatix_partitions.switch(
    p_incoming regclass, p_timeout text DEFAULT '200ms', p_attempts integer DEFAULT 30)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    FOR attempt IN 1 .. p_attempts LOOP
        BEGIN
            PERFORM pg_catalog.set_config('lock_timeout', p_timeout, true);
            PERFORM flavatix_partitions.swap(p_incoming);
            UPDATE flavatix_partitions.migration_state
            SET phase = 'idle', target = NULL, copy_cursor = NULL, switched_at = now(),
                updated_at = now();
            PERFORM flavatix_partitions.log('switch', 'flavor_descriptors', NULL,
                                            format('now %s after %s attempt(s)',
                                                   flavatix_partitions.live_kind(), attempt));
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_catalog.pg_sleep(least(0.1 * attempt, 2.0));
        END;
    END LOOP;
    RAISE EXCEPTION 'could not switch: the locks were not granted within % in % attempts',
                    p_timeout, p_attempts
        USING ERRCODE = '55P03',
              HINT = 'Nothing was switched. Run the step again when no long transaction '
                     'or view refresh is running.';
END;
$$;

-- One bounded step of moving flavor_descriptors to p_target
-- ('partitioned' or 'unpartitioned'). Each call commits on its own, so a
-- killed run resumes where it stopped.
CREATE OR REPLACE FUNCTION flavatix_partitions.step(
    p_target text, p_batch_size integer, p_dry_run boolean)
RETURNS TABLE (step text, detail text, rows_copied bigint, rows_total bigint, done boolean)
LANGUAGE plpgsql
SET search_path = ''
AS $$
#variable_conflict use_column
DECLARE
    st flavatix_partitions.migration_state;
    live regclass := 'public.flavor_descriptors'::regclass;
    incoming regclass;
    in_schema text := CASE p_target WHEN 'partitioned' THEN 'flavatix_partitions'
                                    ELSE 'flavatix_unpartitioned' END;
    cols text := flavatix_partitions.columns('public.flavor_descriptors'::regclass);
    v record;
    seen bigint;
    last_id uuid;
    stale text;
    -- How long a copy step may hold the rows it copies, and its chunks.
    copy_budget constant interval := '250 milliseconds';
    copy_chunk constant integer := 250;
    copy_started constant timestamptz := pg_catalog.clock_timestamp();
    chunk integer;
    chunk_seen bigint;
    chunk_last uuid;
BEGIN
    -- One driver at a time; a second one is told, not queued.
    IF NOT pg_catalog.pg_try_advisory_xact_lock(7146220932) THEN
        RAISE EXCEPTION 'another partition migration step is running'
            USING ERRCODE = '55P03', HINT = 'Wait for it, then run the step again.';
    END IF;
    SELECT * INTO st FROM flavatix_partitions.migration_state FOR UPDATE;
    IF flavatix_partitions.live_kind() = p_target THEN
        RETURN QUERY SELECT 'done'::text,
            format('flavor_descriptors is %s%s', p_target,
                   CASE WHEN flavatix_partitions.table_of_kind(
                            CASE p_target WHEN 'partitioned' THEN 'unpartitioned'
                                 ELSE 'partitioned' END) IS NOT NULL
                        THEN '; the previous table is kept in step until '
                             '`flavatix-db partition cleanup`' ELSE '' END),
            st.rows_copied, st.rows_total, true;
        RETURN;
    END IF;
    IF st.target IS DISTINCT FROM p_target THEN
        st.phase := 'idle';
    END IF;
    incoming := flavatix_partitions.table_of_kind(p_target);

    IF st.phase = 'idle' THEN
        IF p_dry_run THEN
            RETURN QUERY SELECT 'prepare'::text,
                format('would mirror writes into %s, then copy about %s rows in batches of %s, '
                       'rebuild %s views, compare and switch',
                       coalesce(in_schema || '.flavor_descriptors', '?'),
                       (SELECT greatest(reltuples, 0)::bigint FROM pg_catalog.pg_class
                        WHERE oid = live), p_batch_size,
                       (SELECT count(*) FROM flavatix_partitions.dependent_views())),
                0::bigint, (SELECT greatest(reltuples, 0)::bigint FROM pg_catalog.pg_class
                            WHERE oid = live), false;
            RETURN;
        END IF;
        PERFORM flavatix_partitions.check_switchable();
        -- The kept outgoing table is already in step: no copy needed.
        IF incoming IS NOT NULL AND incoming <> live
           AND flavatix_partitions.has_mirror(live) THEN
            UPDATE flavatix_partitions.migration_state
            SET target = p_target, phase = 'views', started_at = now(), updated_at = now();
            RETURN QUERY SELECT 'prepare'::text,
                format('%s is in step with flavor_descriptors; no copy needed', incoming),
                0::bigint, 0::bigint, false;
            RETURN;
        END IF;
        PERFORM flavatix_partitions.drop_mirror(live);
        IF incoming IS NULL THEN
            incoming := CASE p_target WHEN 'partitioned'
                             THEN flavatix_partitions.create_partitioned(live)
                             ELSE flavatix_partitions.create_unpartitioned(live) END;
        ELSE
            EXECUTE format('TRUNCATE %s', incoming);
        END IF;
        -- Leftover replacement views of an earlier attempt.
        FOR v IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
                 WHERE c.relnamespace = in_schema::regnamespace AND c.relkind IN ('v', 'm')
                 ORDER BY c.oid DESC LOOP
            EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE',
                           CASE v.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                           in_schema, v.relname);
        END LOOP;
        PERFORM flavatix_partitions.install_mirror(live, incoming);
        UPDATE flavatix_partitions.migration_state
        SET target = p_target, phase = 'copying', copy_cursor = NULL, rows_copied = 0,
            rows_total = (SELECT greatest(reltuples, 0)::bigint FROM pg_catalog.pg_class
                          WHERE oid = live),
            started_at = now(), updated_at = now(), last_check = NULL;
        PERFORM flavatix_partitions.log('prepare', incoming::text, NULL,
                                        'writes are mirrored from here on');
        RETURN QUERY SELECT 'prepare'::text,
            format('created %s; every write to flavor_descriptors is mirrored into it', incoming),
            0::bigint, (SELECT rows_total FROM flavatix_partitions.migration_state), false;
        RETURN;
    END IF;

    IF st.phase = 'copying' THEN
        IF p_dry_run THEN
            RETURN QUERY SELECT 'copy'::text,
                format('would copy the next %s rows after id %s', p_batch_size,
                       coalesce(st.copy_cursor::text, '(start)')),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        -- FOR SHARE waits for writers of these rows and returns their
        -- committed version; a row the mirror already wrote is skipped. The
        -- rows stay held until the step commits, so a writer of one of them
        -- waits that long: the batch is copied in chunks and ends early once
        -- copy_budget is spent, however slow the machine is at the moment. A
        -- row held by a long transaction makes the step give up (55P03) and
        -- be retried, rather than hold the rows it has meanwhile.
        PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
        seen := 0;
        last_id := st.copy_cursor;
        LOOP
            chunk := least(copy_chunk, p_batch_size - seen);
            EXECUTE format(
                'WITH batch AS (SELECT %1$s FROM public.flavor_descriptors '
                '               WHERE %3$s ORDER BY id LIMIT $2 FOR SHARE), '
                '     copied AS (INSERT INTO %2$s (%1$s) SELECT %1$s FROM batch '
                '                ON CONFLICT DO NOTHING RETURNING 1) '
                'SELECT (SELECT count(*) FROM batch), '
                '       (SELECT id FROM batch ORDER BY id DESC LIMIT 1)', cols, incoming,
                CASE WHEN last_id IS NULL THEN 'true' ELSE 'id > $1' END)
                INTO chunk_seen, chunk_last USING last_id, chunk;
            seen := seen + chunk_seen;
            last_id := coalesce(chunk_last, last_id);
            EXIT WHEN chunk_seen < chunk OR seen >= p_batch_size
                      OR pg_catalog.clock_timestamp() >= copy_started + copy_budget;
        END LOOP;
        IF seen > 0 THEN
            UPDATE flavatix_partitions.migration_state
            SET copy_cursor = last_id, rows_copied = rows_copied + seen,
                rows_total = greatest(rows_total, rows_copied + seen), updated_at = now()
            RETURNING * INTO st;
            RETURN QUERY SELECT 'copy'::text, format('copied up to id %s', last_id),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        EXECUTE format('ANALYZE %s', incoming);
        UPDATE flavatix_partitions.migration_state
        SET phase = 'views', rows_total = rows_copied, updated_at = now()
        RETURNING * INTO st;
        RETURN QUERY SELECT 'copy'::text, 'every row is copied; statistics gathered'::text,
            st.rows_copied, st.rows_total, false;
        RETURN;
    END IF;

    IF st.phase = 'views' THEN
        SELECT d.view_name INTO v FROM flavatix_partitions.dependent_views() d
        WHERE pg_catalog.to_regclass(format('%I.%I', in_schema, d.view_name)) IS NULL
        ORDER BY d.depth, d.view_name LIMIT 1;
        IF v.view_name IS NOT NULL THEN
            IF NOT p_dry_run THEN
                PERFORM flavatix_partitions.build_view(v.view_name, in_schema);
            END IF;
            RETURN QUERY SELECT 'views'::text,
                format('%s %s over the copy', CASE WHEN p_dry_run THEN 'would build'
                                                   ELSE 'built' END, v.view_name),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        IF p_dry_run THEN
            RETURN QUERY SELECT 'compare'::text,
                'would compare both tables (count and checksums of every column)'::text,
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        -- A step of its own, without locks: it blocks nobody however long it
        -- takes, and a switch that has to wait for its locks does not redo it.
        st.last_check := flavatix_partitions.compare(live, incoming)
                         || flavatix_partitions.copy_stamp(live, incoming);
        -- Without the mirror, writes since the copy are missing from it.
        IF st.last_check #>> '{stamp,mirror}' IS NULL THEN
            st.last_check := st.last_check || '{"equal": false}';
        END IF;
        IF NOT (st.last_check ->> 'equal')::boolean THEN
            -- Without the mirror, the next step copies everything again
            -- rather than take the copy for one kept in step.
            PERFORM flavatix_partitions.drop_mirror(live);
            UPDATE flavatix_partitions.migration_state
            SET phase = 'idle', last_check = st.last_check, updated_at = now();
            RETURN QUERY SELECT 'differ'::text,
                format('flavor_descriptors and its copy differ (%s); nothing was switched, '
                       'the next step rebuilds the copy', st.last_check),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        UPDATE flavatix_partitions.migration_state
        SET phase = 'switch', last_check = st.last_check, updated_at = now();
        RETURN QUERY SELECT 'compare'::text,
            format('both tables hold %s rows with the same checksums',
                   st.last_check -> 'live' ->> 'count'),
            st.rows_copied, st.rows_total, false;
        RETURN;
    END IF;

    IF st.phase = 'switch' THEN
        -- The compare holds for the switch only if the mirror alone wrote to
        -- the copy since: no other step ran, the copy and the mirror are the
        -- ones compared, and not so long ago that a write which skips
        -- triggers (session_replication_role = replica) is likely.
        stale := CASE
            WHEN st.last_check IS NULL OR NOT (st.last_check ->> 'equal')::boolean
                THEN 'there is no successful compare'
            WHEN st.updated_at IS DISTINCT FROM (st.last_check ->> 'checked_at')::timestamptz
                THEN 'another step ran after it'
            WHEN st.last_check -> 'stamp' IS DISTINCT FROM
                 flavatix_partitions.copy_stamp(live, incoming) -> 'stamp'
                THEN 'the copy or the mirror trigger changed after it'
            WHEN (st.last_check ->> 'checked_at')::timestamptz
                 < now() - interval '10 minutes'
                THEN 'it is more than 10 minutes old'
        END;
        IF stale IS NOT NULL THEN
            IF NOT p_dry_run THEN
                UPDATE flavatix_partitions.migration_state
                SET phase = 'views', updated_at = now();
            END IF;
            RETURN QUERY SELECT 'stale'::text,
                format('the compare of %s does not hold: %s; nothing was switched, '
                       'the next step compares again',
                       coalesce(st.last_check ->> 'checked_at', 'never'), stale),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        IF p_dry_run THEN
            RETURN QUERY SELECT 'switch'::text,
                format('would switch under short locks (compared at %s)',
                       st.last_check ->> 'checked_at'),
                st.rows_copied, st.rows_total, false;
            RETURN;
        END IF;
        PERFORM flavatix_partitions.switch(incoming);
        RETURN QUERY SELECT 'switch'::text,
            format('flavor_descriptors is now %s; %s rows had the same checksums at %s',
                   p_target, st.last_check -> 'live' ->> 'count',
                   st.last_check ->> 'checked_at'),
            st.rows_copied, st.rows_total, true;
        RETURN;
    END IF;
END;
$$;

-- Every step until done, each committed (CALL outside a transaction block).
-- Fully qualified names: a procedure that commits cannot pin search_path.
CREATE OR REPLACE PROCEDURE flavatix_partitions.run_to(
    p_target text, p_batch_size integer DEFAULT 10000, p_only_if_empty boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
    finished boolean := false;
    kind text;
    detail text;
BEGIN
    IF p_only_if_empty AND EXISTS (SELECT FROM public.flavor_descriptors) THEN
        RAISE NOTICE 'flavor_descriptors holds rows: partition it online with '
                     '`flavatix-db partition migrate`';
        RETURN;
    END IF;
    WHILE NOT finished LOOP
        SELECT s.done, s.step, s.detail INTO finished, kind, detail
        FROM flavatix_partitions.step(p_target, p_batch_size, false) s;
        COMMIT;
        -- The copy has been reset; a rerun rebuilds it, but a person should look first.
        IF kind = 'differ' THEN
            RAISE EXCEPTION '%', detail USING ERRCODE = 'XX001';
        END IF;
    END LOOP;
    IF p_only_if_empty THEN
        -- Nothing to fall back to: an empty plain table need not be kept in step.
        PERFORM flavatix_partitions.cleanup();
    END IF;
END;
$$;

-- Drop the outgoing table kept in step since the switch.
CREATE OR REPLACE FUNCTION flavatix_partitions.cleanup()
RETURNS text
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    live regclass := 'public.flavor_descriptors'::regclass;
    kept regclass := flavatix_partitions.table_of_kind(
        CASE flavatix_partitions.live_kind() WHEN 'partitioned' THEN 'unpartitioned'
             ELSE 'partitioned' END);
    st flavatix_partitions.migration_state;
BEGIN
    SELECT * INTO st FROM flavatix_partitions.migration_state FOR UPDATE;
    IF st.phase <> 'idle' THEN
        RAISE EXCEPTION 'a migration to the % table is in progress (%): finish it first',
                        st.target, st.phase USING ERRCODE = '55000';
    END IF;
    PERFORM flavatix_partitions.drop_mirror(live);
    IF kept IS NULL OR kept = live THEN
        RETURN 'nothing to clean up';
    END IF;
    IF flavatix_partitions.live_kind() = 'unpartitioned' THEN
        -- The retired partitioned table: its monthly partitions go with it.
        EXECUTE format('DROP TABLE %s', kept);
        TRUNCATE flavatix_partitions.flavor_descriptor_keys;
    ELSE
        EXECUTE format('DROP TABLE %s', kept);
    END IF;
    PERFORM flavatix_partitions.log('cleanup', kept::text, NULL, 'dropped the previous table');
    RETURN format('dropped %s', kept);
END;
$$;
"""

# The plan's helpers, in public. They run as their owner (the partitions'
# owner) and only the owner and service_role may execute them.
CREATE_HELPERS = r"""
CREATE OR REPLACE FUNCTION public.flavatix_partitioned_table(p_function text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    parent regclass := flavatix_partitions.table_of_kind('partitioned');
BEGIN
    IF parent IS NULL THEN
        RAISE EXCEPTION '%: there is no partitioned flavor_descriptors table', p_function
            USING ERRCODE = '55000',
                  HINT = 'Run `flavatix-db partition migrate` to create and switch to it.';
    END IF;
    RETURN parent;
END;
$$;

CREATE OR REPLACE FUNCTION public.create_descriptor_partition(p_year integer, p_month integer)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'create_descriptor_partition';
BEGIN
    IF p_year IS NULL OR p_month IS NULL THEN
        RAISE EXCEPTION '%: p_year and p_month must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_year NOT BETWEEN 1970 AND 9999 THEN
        RAISE EXCEPTION '%: p_year must be from 1970 to 9999, not %', fn, p_year
            USING ERRCODE = '22023';
    END IF;
    IF p_month NOT BETWEEN 1 AND 12 THEN
        RAISE EXCEPTION '%: p_month must be from 1 to 12, not %', fn, p_month
            USING ERRCODE = '22023';
    END IF;
    RETURN flavatix_partitions.create_month(public.flavatix_partitioned_table(fn),
                                            make_date(p_year, p_month, 1));
END;
$$;

CREATE OR REPLACE FUNCTION public.ensure_future_partitions(p_months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'ensure_future_partitions';
    parent regclass;
    m date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    made integer := 0;
    before bigint;
BEGIN
    IF p_months_ahead IS NULL THEN
        RAISE EXCEPTION '%: p_months_ahead must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_months_ahead NOT BETWEEN 0 AND 120 THEN
        RAISE EXCEPTION '%: p_months_ahead must be from 0 to 120, not %', fn, p_months_ahead
            USING ERRCODE = '22023';
    END IF;
    parent := public.flavatix_partitioned_table(fn);
    FOR i IN 0 .. p_months_ahead LOOP
        before := (SELECT count(*) FROM pg_catalog.pg_inherits WHERE inhparent = parent);
        PERFORM flavatix_partitions.create_month(parent, (m + make_interval(months => i))::date);
        made := made + ((SELECT count(*) FROM pg_catalog.pg_inherits
                         WHERE inhparent = parent) - before)::integer;
    END LOOP;
    RETURN made;
END;
$$;

-- A partition's month, from its bound; NULL for the default partition.
CREATE OR REPLACE FUNCTION flavatix_partitions.months(p_parent regclass)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT c.relname::text,
           (regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                         'FROM \(''([^'']+)''\)'))[1]::timestamptz,
           (regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                         'TO \(''([^'']+)''\)'))[1]::timestamptz
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = p_parent
$$;

CREATE OR REPLACE FUNCTION public.detach_partition(p_partition_name text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'detach_partition';
    parent regclass;
    part regclass;
    n bigint;
BEGIN
    IF p_partition_name IS NULL THEN
        RAISE EXCEPTION '%: p_partition_name must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    parent := public.flavatix_partitioned_table(fn);
    -- Only the bare name of a monthly partition of this table is accepted.
    SELECT format('flavatix_partitions.%I', m.partition_name)::regclass INTO part
    FROM flavatix_partitions.months(parent) m
    WHERE m.partition_name = p_partition_name AND m.range_start IS NOT NULL;
    IF part IS NULL THEN
        RAISE EXCEPTION '%: % is not a monthly partition of flavor_descriptors', fn,
                        quote_literal(p_partition_name)
            USING ERRCODE = '22023',
                  HINT = 'Give the bare name, e.g. flavor_descriptors_p2024_01; '
                         'SELECT * FROM archive_old_partitions(...) lists old ones.';
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', part) INTO n;
    -- Plain DETACH (a function cannot DETACH CONCURRENTLY) takes ACCESS
    -- EXCLUSIVE on the parent: only for a moment, taken with a short timeout.
    PERFORM flavatix_partitions.lock_tables(
        ARRAY[parent, part]
        || ARRAY(SELECT format('flavatix_partitions.%I', m.partition_name)::regclass
                 FROM flavatix_partitions.months(parent) m WHERE m.range_start IS NULL),
        'ACCESS EXCLUSIVE');
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, part);
    PERFORM flavatix_partitions.log('detach', p_partition_name, n,
                                    'kept as a table in schema flavatix_partitions');
    RETURN part::text;
END;
$$;

CREATE OR REPLACE FUNCTION public.archive_old_partitions(p_months_to_keep integer DEFAULT 24)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz,
               row_count bigint, action text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'archive_old_partitions';
    parent regclass;
    cutoff timestamptz;
    m record;
BEGIN
    IF p_months_to_keep IS NULL THEN
        RAISE EXCEPTION '%: p_months_to_keep must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    IF p_months_to_keep < 1 THEN
        RAISE EXCEPTION '%: p_months_to_keep must be at least 1, not %', fn, p_months_to_keep
            USING ERRCODE = '22023';
    END IF;
    parent := public.flavatix_partitioned_table(fn);
    -- Keep the current month and the p_months_to_keep - 1 before it.
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
               - make_interval(months => p_months_to_keep - 1)) AT TIME ZONE 'UTC';
    FOR m IN SELECT * FROM flavatix_partitions.months(parent) t
             WHERE t.range_end IS NOT NULL AND t.range_end <= cutoff
             ORDER BY t.range_start LOOP
        partition_name := m.partition_name;
        range_start := m.range_start;
        range_end := m.range_end;
        EXECUTE format('SELECT count(*) FROM flavatix_partitions.%I', m.partition_name)
            INTO row_count;
        PERFORM public.detach_partition(m.partition_name);
        action := 'detached';
        RETURN NEXT;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION public.get_partition_for_date(p_date timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'get_partition_for_date';
    parent regclass;
BEGIN
    IF p_date IS NULL THEN
        RAISE EXCEPTION '%: p_date must not be NULL', fn USING ERRCODE = '22004';
    END IF;
    parent := public.flavatix_partitioned_table(fn);
    RETURN coalesce(
        (SELECT m.partition_name FROM flavatix_partitions.months(parent) m
         WHERE p_date >= m.range_start AND p_date < m.range_end),
        (SELECT m.partition_name FROM flavatix_partitions.months(parent) m
         WHERE m.range_start IS NULL));
END;
$$;

CREATE OR REPLACE FUNCTION public.analyze_all_partitions()
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    parent regclass := public.flavatix_partitioned_table('analyze_all_partitions');
    m record;
    n integer := 0;
BEGIN
    FOR m IN SELECT partition_name FROM flavatix_partitions.months(parent) LOOP
        EXECUTE format('ANALYZE flavatix_partitions.%I', m.partition_name);
        n := n + 1;
    END LOOP;
    -- The parent's own statistics cover the whole table.
    EXECUTE format('ANALYZE %s', parent);
    PERFORM flavatix_partitions.log('analyze', NULL, n, 'every partition and the parent');
    RETURN n;
END;
$$;

-- Daily: partitions for this month and the next three, and rows waiting in
-- the default partition moved into a partition of their month.
CREATE OR REPLACE FUNCTION public.run_partition_maintenance()
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    parent regclass := public.flavatix_partitioned_table('run_partition_maintenance');
    dflt text := (SELECT partition_name FROM flavatix_partitions.months(parent)
                  WHERE range_start IS NULL);
    created integer;
    m date;
    moved text[] := '{}'::text[];
    left_over bigint;
BEGIN
    created := public.ensure_future_partitions(3);
    IF dflt IS NOT NULL THEN
        FOR m IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', created_at AT TIME ZONE '
                                '''UTC'')::date FROM flavatix_partitions.%I ORDER BY 1', dflt) LOOP
            moved := moved || flavatix_partitions.create_month(parent, m);
        END LOOP;
        EXECUTE format('SELECT count(*) FROM flavatix_partitions.%I', dflt) INTO left_over;
    END IF;
    PERFORM flavatix_partitions.log('maintenance', NULL, created,
                                    format('created %s partitions; moved rows into %s', created,
                                           coalesce(nullif(array_to_string(moved, ', '), ''),
                                                    'none')));
    RETURN jsonb_build_object('partitions_created', created,
                              'partitions_filled_from_default', to_jsonb(moved),
                              'rows_in_default', coalesce(left_over, 0));
END;
$$;

CREATE OR REPLACE FUNCTION public.migrate_to_partitioned_table(
    p_batch_size integer DEFAULT 10000, p_dry_run boolean DEFAULT true)
RETURNS TABLE (step text, detail text, rows_copied bigint, rows_total bigint, done boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    fn constant text := 'migrate_to_partitioned_table';
BEGIN
    IF p_batch_size IS NULL OR p_dry_run IS NULL THEN
        RAISE EXCEPTION '%: p_batch_size and p_dry_run must not be NULL', fn
            USING ERRCODE = '22004';
    END IF;
    IF p_batch_size NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION '%: p_batch_size must be from 1 to 1000000, not %', fn, p_batch_size
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT * FROM flavatix_partitions.step('partitioned', p_batch_size, p_dry_run);
END;
$$;
"""

HELPER_SIGNATURES = (
    "public.flavatix_partitioned_table(text)",
    "public.create_descriptor_partition(integer, integer)",
    "public.ensure_future_partitions(integer)",
    "public.detach_partition(text)",
    "public.archive_old_partitions(integer)",
    "public.get_partition_for_date(timestamptz)",
    "public.analyze_all_partitions()",
    "public.run_partition_maintenance()",
    "public.migrate_to_partitioned_table(integer, boolean)",
)

# Only the owner and service_role run these; the bookkeeping is not readable
# through the API.
RESTRICT_ACCESS = f"""
DO $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY{list(HELPER_SIGNATURES)!r} LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
    REVOKE ALL ON public.partition_maintenance_log FROM PUBLIC;
    -- The schema already gives no USAGE; its routines are the owner's alone too.
    REVOKE ALL ON ALL ROUTINES IN SCHEMA flavatix_partitions FROM PUBLIC;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
        FOREACH fn IN ARRAY ARRAY{list(HELPER_SIGNATURES)!r} LOOP
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', fn);
        END LOOP;
        REVOKE ALL ON public.partition_maintenance_log FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        FOREACH fn IN ARRAY ARRAY{list(HELPER_SIGNATURES[1:])!r} LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', fn);
        END LOOP;
        GRANT SELECT ON public.partition_maintenance_log TO service_role;
    END IF;
END;
$$;
"""

# batch_insert_descriptors: on the partitioned table a second spelling of a
# descriptor for the same source is refused by the key table (23505) rather
# than by an ON CONFLICT arbiter; both count as a duplicate.
BATCH_INSERT_HEAD = """
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
"""
BATCH_INSERT_TAIL = """            EXCEPTION WHEN OTHERS THEN
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
CATCH_KEY_TABLE_DUPLICATE = """            EXCEPTION WHEN unique_violation THEN
                IF SQLERRM LIKE '%flavor_descriptor_keys_pkey%' THEN
                    reason := SQLERRM;
                ELSE
                    duplicate_count := duplicate_count + 1;
                    CONTINUE;
                END IF;
"""
# 004's text, restored by the downgrade.
BATCH_INSERT_004 = BATCH_INSERT_HEAD + BATCH_INSERT_TAIL
BATCH_INSERT_005 = (
    BATCH_INSERT_HEAD
    + CATCH_KEY_TABLE_DUPLICATE
    + BATCH_INSERT_TAIL.replace("EXCEPTION WHEN OTHERS THEN", "WHEN OTHERS THEN")
)

DROP_OBJECTS = f"""
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS {", ".join(HELPER_SIGNATURES)};
-- Only this revision's bookkeeping: every descriptor is in the live table.
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS public.partition_maintenance_log;
-- Both schemas are this revision's own; by now neither holds the live table.
-- squawk-ignore ban-drop-schema
DROP SCHEMA IF EXISTS flavatix_partitions CASCADE;
-- squawk-ignore ban-drop-schema
DROP SCHEMA IF EXISTS flavatix_unpartitioned CASCADE;
"""

# Switched back to the plain table (or never switched): drop the mirror and
# the partitioned copy. Refuses while the partitioned table is live.
REMOVE_PARTITIONED_COPY = """
DO $$
BEGIN
    IF flavatix_partitions.live_kind() <> 'unpartitioned' THEN
        RAISE EXCEPTION 'flavor_descriptors is still partitioned; the move back did not finish'
            USING ERRCODE = '55000', HINT = 'Run `alembic downgrade 004` again.';
    END IF;
    PERFORM flavatix_partitions.drop_mirror('public.flavor_descriptors'::regclass);
END;
$$;
"""


def execute_without_timeout(sql: str) -> None:
    """Run long statements that block nobody (copy batches, view builds)."""
    op.execute("SET statement_timeout = 0")
    op.execute(sql)
    op.execute("RESET statement_timeout")


def upgrade() -> None:
    """Create the partitioning machinery and helpers; switch over now if the table is empty."""
    op.execute(CREATE_SCHEMAS)
    op.execute(CREATE_INTERNALS)
    op.execute(CREATE_HELPERS)
    op.execute(RESTRICT_ACCESS)
    op.execute(RECORD_PLAIN_KEYS)
    op.execute(BATCH_INSERT_005)
    with op.get_context().autocommit_block():
        execute_without_timeout("CALL flavatix_partitions.run_to('partitioned', 10000, true)")


def downgrade() -> None:
    """Move the rows back into a plain table online if switched; then drop what 005 made."""
    with op.get_context().autocommit_block():
        execute_without_timeout("CALL flavatix_partitions.run_to('unpartitioned', 10000)")
    op.execute(REMOVE_PARTITIONED_COPY)
    op.execute(BATCH_INSERT_004)
    op.execute(DROP_OBJECTS)
