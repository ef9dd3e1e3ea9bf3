"""Rollback procedures: SQL functions that are the downgrades, verification, history.

Revision ID: 007
Revises: 006
Create Date: 2026-11-30

One source for both ways back. This upgrade renders the downgrade of every
revision beneath it with Alembic's offline mode, exactly as
`alembic downgrade <rev>:<parent> --sql` does (the revision's downgrade() run
under an offline MigrationContext), and stores each statement, in order, in
flavatix_migrations.rollback_steps. rollback_<rev>_<name>(p_dry_run, p_cascade)
lists those rows (dry run) or executes them (real run); nothing else holds a
second copy of a downgrade. Revisions are found by walking the history beneath
this one, so a revision inserted below 007 gets its function with no edit here.

A real run is one transaction, the caller's. What a function cannot do:
- statements that Alembic runs in an autocommit block run here in their
  locking form: DROP INDEX CONCURRENTLY becomes DROP INDEX, which holds an
  ACCESS EXCLUSIVE lock on the table (reads and writes wait) until the caller
  commits; CREATE INDEX CONCURRENTLY becomes CREATE INDEX (SHARE lock: writes
  wait while it builds, and until the commit). VALIDATE CONSTRAINT runs as is;
- a CALL of a procedure that commits as it goes (005's move of the data back
  out of the partitions) cannot run inside a function: the function skips it
  only when a guard stored with it shows there is nothing to do (005: the table
  is plain and no move is under way), and otherwise refuses before anything
  runs, naming `alembic downgrade <parent>`.
Checks that keep data (000 refuses while descriptors exist, 001 refuses while
rows use values 000 does not allow and keeps ai_extracted while it holds data,
005 refuses while the table is partitioned) are DO blocks inside the rendered
statements, so both paths run the same checks.

Revisions above: 007 is the tool, not a layer. Rolling back revision R while
revisions between R and 007 are applied is refused unless p_cascade, which
rolls them back from the top down to and including R, as `alembic downgrade
<parent of R>` would. When the version table says 007, the first step moves it
to 007's parent and 007's own objects stay, so the functions remain usable;
`alembic upgrade head` then re-applies the rest and re-creates 007's objects
(this upgrade is re-runnable). Removing 007 itself is `alembic downgrade 006`
(or whatever 007's parent is).

verify_migrations() compares the catalogue below (frozen: generated from a
migrated database, plain and Supabase-like, in both of 005's states, with
`python -m tests.revision_catalogue`) with catalogue_objects(), one query over the
catalog that both the generator and the function use.

migration_history is not made here: it belongs to the migration machinery
(alembic/env.py creates it beside the version table) and survives this
revision's downgrade. A real run of a rollback function writes one row per
revision it rolls back, in the caller's transaction; a step that fails undoes
the whole call and leaves a 'failed' row (see CREATE_RUN_ROLLBACK).
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db.
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory

revision: str = "007"
down_revision: str | Sequence[str] | None = "006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "flavatix_migrations"
VERSION_TABLE = f"{SCHEMA}.alembic_version"
NAME_PATTERN = re.compile(r"[0-9]{3}_[a-z0-9_]+")

# A CALL may be skipped inside a function only when its guard (a boolean SQL
# expression over this database's state) shows the procedure has nothing to do.
CALL_GUARDS = {
    "CALL flavatix_partitions.run_to('unpartitioned', 10000);": (
        "flavatix_partitions.live_kind() = 'unpartitioned' AND NOT EXISTS "
        "(SELECT FROM flavatix_partitions.migration_state WHERE phase <> 'idle')",
        "skipped: flavor_descriptors is a plain table and no move is under way, "
        "so there is nothing to move back",
    ),
}

CREATE_TABLES = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.rollback_revisions (
    revision text PRIMARY KEY,
    parent text,
    name text NOT NULL UNIQUE,
    position bigint NOT NULL UNIQUE,
    has_rollback boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.rollback_steps (
    revision text NOT NULL REFERENCES {SCHEMA}.rollback_revisions ON DELETE CASCADE,
    position bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('transaction', 'autocommit', 'version')),
    statement text NOT NULL,
    guard text,
    guard_note text,
    PRIMARY KEY (revision, position)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.revision_catalogue (
    revision text NOT NULL,
    env text NOT NULL CHECK (env IN ('any', 'plain', 'supabase')),
    variant text NOT NULL CHECK (variant IN ('any', 'plain', 'switched')),
    kind text NOT NULL,
    name text NOT NULL,
    state text NOT NULL,
    PRIMARY KEY (revision, env, variant, kind, name)
);
-- Re-runnable: the rows are this revision's rendering of the history.
TRUNCATE {SCHEMA}.rollback_steps, {SCHEMA}.revision_catalogue;
DELETE FROM {SCHEMA}.rollback_revisions;
"""

# Every object the revisions make, with a state that changes when the object is
# broken or replaced. Children of partitioned tables are left out (their number
# depends on the data and the date); the partitioned table's key and default
# partition are its state instead. The version table and migration_history
# belong to the machinery, not to a revision.
CATALOGUE_QUERY = """
WITH rels AS (
    SELECT c.oid, c.relkind, c.relispopulated, c.relrowsecurity,
           pg_catalog.format('%I.%I', n.nspname, c.relname) AS qname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname !~ '^pg_(temp|toast_temp)_'
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT c.relispartition
      AND NOT (n.nspname = 'flavatix_migrations'
               AND c.relname IN ('alembic_version', 'migration_history'))
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND d.objid = c.oid AND d.deptype = 'e')
),
procs AS (
    SELECT p.oid, p.oid::pg_catalog.regprocedure::text AS sig
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND p.prokind <> 'a'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                        AND d.objid = p.oid AND d.deptype = 'e')
),
schemas AS (
    SELECT n.oid, n.nspname::text AS name
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public')
      AND n.nspname !~ '^pg_(temp|toast_temp)_'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                        AND d.objid = n.oid AND d.deptype = 'e')
),
api_roles AS (
    SELECT r.rolname::text AS rolname FROM pg_catalog.pg_roles r
    WHERE r.rolname IN ('anon', 'authenticated')
),
table_privileges AS (
    SELECT pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                   'REFERENCES', 'TRIGGER']) AS privilege
)
SELECT 'schema' AS kind, s.name, 'present' AS state FROM schemas s
UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      ELSE 'table' END,
       r.qname,
       CASE r.relkind
           WHEN 'r' THEN 'table'
           WHEN 'f' THEN 'foreign table'
           WHEN 'p' THEN 'partitioned by ' || pg_catalog.pg_get_partkeydef(r.oid)
                || CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_partitioned_table pt
                                     WHERE pt.partrelid = r.oid AND pt.partdefid <> 0)
                        THEN ' with a default partition' ELSE ' without a default partition' END
           WHEN 'v' THEN 'definition ' || pg_catalog.md5(pg_catalog.pg_get_viewdef(r.oid))
           ELSE CASE WHEN r.relispopulated THEN 'populated' ELSE 'not populated' END
                || ', definition ' || pg_catalog.md5(pg_catalog.pg_get_viewdef(r.oid))
       END
       || CASE WHEN r.relrowsecurity THEN ', row level security' ELSE '' END
FROM rels r
UNION ALL
SELECT 'column', r.qname || '.' || pg_catalog.quote_ident(a.attname),
       pg_catalog.format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END
FROM rels r
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
WHERE r.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', r.qname || '.' || pg_catalog.quote_ident(con.conname),
       con.contype::text
       || CASE WHEN con.convalidated THEN ' validated' ELSE ' NOT VALIDATED' END
       || ', definition ' || pg_catalog.md5(pg_catalog.pg_get_constraintdef(con.oid))
FROM pg_catalog.pg_constraint con
JOIN rels r ON r.oid = con.conrelid
WHERE con.conparentid = 0
UNION ALL
SELECT 'index', pg_catalog.format('%I.%I', n.nspname, ic.relname),
       CASE WHEN i.indisvalid AND i.indisready THEN 'valid' ELSE 'INVALID' END
       || ', definition ' || pg_catalog.md5(pg_catalog.pg_get_indexdef(i.indexrelid))
FROM pg_catalog.pg_index i
JOIN rels r ON r.oid = i.indrelid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
UNION ALL
SELECT 'function', p.sig, 'definition ' || pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid))
FROM procs p
UNION ALL
SELECT 'trigger', r.qname || '.' || pg_catalog.quote_ident(t.tgname),
       CASE WHEN t.tgenabled = 'D' THEN 'disabled' ELSE 'enabled' END
       || ', definition ' || pg_catalog.md5(pg_catalog.pg_get_triggerdef(t.oid))
FROM pg_catalog.pg_trigger t
JOIN rels r ON r.oid = t.tgrelid
WHERE NOT t.tgisinternal AND t.tgparentid = 0
UNION ALL
SELECT 'policy', r.qname || '.' || pg_catalog.quote_ident(pol.polname),
       'definition ' || pg_catalog.md5(pg_catalog.concat_ws('|', pol.polcmd, pol.polpermissive,
           (SELECT pg_catalog.string_agg(
                       CASE WHEN ro = 0 THEN 'public'
                            ELSE (SELECT rr.rolname::text FROM pg_catalog.pg_roles rr
                                  WHERE rr.oid = ro) END, ',' ORDER BY 1)
            FROM pg_catalog.unnest(pol.polroles) AS ro),
           pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
           pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)))
FROM pg_catalog.pg_policy pol
JOIN rels r ON r.oid = pol.polrelid
UNION ALL
SELECT 'extension', e.extname::text, 'in schema ' || e.extnamespace::pg_catalog.regnamespace::text
FROM pg_catalog.pg_extension e
WHERE e.extname <> 'plpgsql'
UNION ALL
SELECT 'grant', 'relation ' || r.qname || ' to ' || ar.rolname,
       coalesce((SELECT pg_catalog.string_agg(tp.privilege, ',' ORDER BY tp.privilege)
                 FROM table_privileges tp
                 WHERE pg_catalog.has_table_privilege(ar.rolname, r.oid, tp.privilege)),
                'none')
FROM rels r CROSS JOIN api_roles ar
UNION ALL
SELECT 'grant', 'function ' || p.sig || ' to ' || ar.rolname,
       CASE WHEN pg_catalog.has_function_privilege(ar.rolname, p.oid, 'EXECUTE')
            THEN 'EXECUTE' ELSE 'none' END
FROM procs p CROSS JOIN api_roles ar
UNION ALL
SELECT 'grant', 'schema ' || s.name || ' to ' || ar.rolname,
       coalesce(nullif(pg_catalog.concat_ws(',',
           CASE WHEN pg_catalog.has_schema_privilege(ar.rolname, s.oid, 'CREATE')
                THEN 'CREATE' END,
           CASE WHEN pg_catalog.has_schema_privilege(ar.rolname, s.oid, 'USAGE')
                THEN 'USAGE' END), ''), 'none')
FROM schemas s CROSS JOIN api_roles ar
"""

CREATE_CATALOGUE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.catalogue_objects()
RETURNS TABLE (kind text, name text, state text)
LANGUAGE sql STABLE
SET search_path = ''
AS $catalogue$
{CATALOGUE_QUERY}
$catalogue$;
"""

# The rollback itself. Statements are this revision's own rows (never text a
# caller passes in); they run with the search_path Alembic's sessions have.
#
# A real run is all or nothing, and always leaves a record. What can be known
# before anything runs (arguments, the version table, revisions above without
# p_cascade, a CALL that cannot run inside a function) is refused with an
# error, as before. The steps then run in one subtransaction: when a step
# fails, every step of the call is undone (the revisions above the failing one
# included, so the version table stays where it was), a migration_history row
# with outcome 'failed' and the error is written in the caller's transaction,
# and the call returns its steps as 'undone' plus a last row whose status
# starts with 'failed:', and raises a WARNING. Raising an error instead would
# roll that row back too: there is no second connection inside a function.
# A cancel (statement_timeout, pg_cancel_backend) is not caught by PL/pgSQL
# and still ends the call with an error and no row.
CREATE_RUN_ROLLBACK = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.run_rollback(
    p_revision text, p_dry_run boolean, p_cascade boolean, p_via text)
RETURNS TABLE (action text, object_name text, status text)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    own constant text := '{revision}';
    call_pattern constant text := '^\\s*(--[^\\n]*\\n\\s*)*CALL\\M';
    own_row {SCHEMA}.rollback_revisions;
    target {SCHEMA}.rollback_revisions;
    rev {SCHEMA}.rollback_revisions;
    st {SCHEMA}.rollback_steps;
    stamps text[];
    current_rev text;
    top_position bigint;
    above text;
    run_text text;
    how text;
    guard_ok boolean;
    moved bigint;
    started timestamptz;
    -- The rows to return, kept until the end: a failed call reports them undone.
    out_action text[] := '{{}}';
    out_object text[] := '{{}}';
    out_status text[] := '{{}}';
    -- The step running now, for the record of a failure.
    now_revision text;
    now_direction text;
    now_action text;
    now_object text;
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
    failure text;
BEGIN
    IF p_revision IS NULL OR p_dry_run IS NULL OR p_cascade IS NULL OR p_via IS NULL THEN
        RAISE EXCEPTION 'run_rollback: p_revision, p_dry_run, p_cascade and p_via must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO target FROM {SCHEMA}.rollback_revisions r
    WHERE r.revision = p_revision AND r.has_rollback;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: revision % has no rollback function', p_via, p_revision
            USING ERRCODE = '22023';
    END IF;
    SELECT * INTO own_row FROM {SCHEMA}.rollback_revisions r WHERE r.revision = own;
    IF to_regclass('{VERSION_TABLE}') IS NULL THEN
        RAISE EXCEPTION '%: there is no version table {VERSION_TABLE}', p_via
            USING ERRCODE = '55000';
    END IF;
    SELECT array_agg(v.version_num::text) INTO stamps FROM {VERSION_TABLE} v;
    IF coalesce(cardinality(stamps), 0) <> 1 THEN
        RAISE EXCEPTION '%: the version table holds % stamps, expected one', p_via,
                        coalesce(cardinality(stamps), 0)
            USING ERRCODE = '55000', HINT = 'Check it with `alembic current`.';
    END IF;
    current_rev := stamps[1];
    SELECT r.position INTO top_position FROM {SCHEMA}.rollback_revisions r
    WHERE r.revision = current_rev;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the database is at revision %, which revision % knows no rollback for',
                        p_via, current_rev, own
            USING ERRCODE = '55000',
                  HINT = format('Use `alembic downgrade %s`.', target.parent);
    END IF;
    IF top_position < target.position THEN
        RAISE EXCEPTION '%: revision % is not applied; the database is at revision %',
                        p_via, p_revision, current_rev
            USING ERRCODE = '55000';
    END IF;
    SELECT string_agg(r.revision, ', ' ORDER BY r.position DESC) INTO above
    FROM {SCHEMA}.rollback_revisions r
    WHERE r.position > target.position AND r.position <= top_position AND r.revision <> own;
    IF above IS NOT NULL AND NOT p_cascade THEN
        RAISE EXCEPTION '%: revision % is applied beneath revisions still applied: %',
                        p_via, p_revision, above
            USING ERRCODE = '55000',
                  HINT = format('Pass p_cascade => true to roll them back first, from the top, '
                                'or run `alembic downgrade %s`.', target.parent);
    END IF;
    -- A procedure that commits as it goes cannot run here: refused before
    -- anything runs, unless its guard shows it has nothing to do.
    IF NOT p_dry_run THEN
        FOR rev IN SELECT * FROM {SCHEMA}.rollback_revisions r
                   WHERE r.has_rollback AND r.position BETWEEN target.position AND top_position
                   ORDER BY r.position DESC LOOP
            FOR st IN SELECT * FROM {SCHEMA}.rollback_steps s
                      WHERE s.revision = rev.revision AND s.kind = 'autocommit'
                        AND s.statement ~* call_pattern
                      ORDER BY s.position LOOP
                guard_ok := false;
                IF st.guard IS NOT NULL THEN
                    EXECUTE 'SELECT ' || st.guard INTO guard_ok;
                END IF;
                IF NOT coalesce(guard_ok, false) THEN
                    RAISE EXCEPTION '%: step % of revision % (%) commits as it goes and '
                                    'cannot run inside a function', p_via, st.position,
                                    rev.revision, st.statement
                        USING ERRCODE = '55000',
                              HINT = format('Run `alembic downgrade %s`; nothing was changed.',
                                            rev.parent);
                END IF;
            END LOOP;
        END LOOP;
    END IF;

    BEGIN
        IF current_rev = own THEN
            now_revision := own_row.parent;
            now_direction := 'stamp';
            now_action := format('UPDATE {VERSION_TABLE} SET version_num=%L '
                                 'WHERE {VERSION_TABLE}.version_num = %L;', own_row.parent, own);
            now_object := own_row.name;
            started := clock_timestamp();
            IF p_dry_run THEN
                status := format('planned: the version table leaves %s; its objects stay '
                                 '(`alembic downgrade %s` removes them)', own, own_row.parent);
            ELSE
                EXECUTE now_action;
                INSERT INTO {SCHEMA}.migration_history
                    (revision, direction, via, db_user, started_at, finished_at, outcome)
                VALUES (own_row.parent, 'stamp', p_via || '()', session_user, started,
                        clock_timestamp(), 'succeeded');
                status := format('done: %s''s objects stay', own);
            END IF;
            out_action := out_action || now_action;
            out_object := out_object || now_object;
            out_status := out_status || status;
        END IF;

        -- Alembic's sessions resolve unqualified names this way.
        PERFORM set_config('search_path', '"$user", public, extensions', true);
        FOR rev IN SELECT * FROM {SCHEMA}.rollback_revisions r
                   WHERE r.has_rollback AND r.position BETWEEN target.position AND top_position
                   ORDER BY r.position DESC LOOP
            started := clock_timestamp();
            now_revision := rev.revision;
            now_direction := 'downgrade';
            FOR st IN SELECT * FROM {SCHEMA}.rollback_steps s
                      WHERE s.revision = rev.revision ORDER BY s.position LOOP
                now_action := st.statement;
                now_object := rev.name || ' #' || st.position;
                run_text := st.statement;
                how := NULL;
                status := NULL;
                IF st.kind = 'autocommit' THEN
                    IF st.statement ~* '\\m(CREATE|DROP)\\s+(UNIQUE\\s+)?INDEX\\s+CONCURRENTLY\\M' THEN
                        run_text := regexp_replace(
                            st.statement,
                            '\\m((CREATE|DROP)\\s+(UNIQUE\\s+)?INDEX)\\s+CONCURRENTLY\\M', '\\1',
                            'gi');
                        how := CASE WHEN st.statement ~* '\\mDROP\\s+INDEX'
                            THEN 'as DROP INDEX: ACCESS EXCLUSIVE lock on the table '
                                 '(reads and writes wait) until the caller commits'
                            ELSE 'as CREATE INDEX: SHARE lock on the table (writes wait) '
                                 'until the caller commits' END;
                    ELSIF st.statement ~* call_pattern THEN
                        guard_ok := false;
                        IF st.guard IS NOT NULL THEN
                            EXECUTE 'SELECT ' || st.guard INTO guard_ok;
                        END IF;
                        IF coalesce(guard_ok, false) THEN
                            run_text := NULL;
                            how := st.guard_note;
                        ELSIF p_dry_run THEN
                            status := format('refused: the procedure commits as it goes and '
                                             'cannot run inside a function; run '
                                             '`alembic downgrade %s`', rev.parent);
                        ELSE
                            -- Checked before the call began; a step above changed that.
                            RAISE EXCEPTION '%: step % of revision % commits as it goes and '
                                            'cannot run inside a function', p_via, st.position,
                                            rev.revision
                                USING ERRCODE = '55000',
                                      HINT = format('Run `alembic downgrade %s`.', rev.parent);
                        END IF;
                    END IF;
                END IF;
                IF status IS NOT NULL THEN
                    NULL;
                ELSIF p_dry_run THEN
                    status := 'planned' || coalesce(', ' || how, '');
                ELSE
                    IF run_text IS NOT NULL THEN
                        EXECUTE run_text;
                    END IF;
                    IF st.kind = 'version' THEN
                        GET DIAGNOSTICS moved = ROW_COUNT;
                        IF moved <> 1 THEN
                            RAISE EXCEPTION '%: the version table did not move from revision %',
                                            p_via, rev.revision
                                USING ERRCODE = '55000';
                        END IF;
                    END IF;
                    status := CASE WHEN run_text IS NULL THEN how
                                   ELSE 'done' || coalesce(', ' || how, '') END;
                END IF;
                out_action := out_action || now_action;
                out_object := out_object || now_object;
                out_status := out_status || status;
            END LOOP;
            IF NOT p_dry_run THEN
                INSERT INTO {SCHEMA}.migration_history
                    (revision, direction, via, db_user, started_at, finished_at, outcome)
                VALUES (rev.revision, 'downgrade', p_via || '()', session_user, started,
                        clock_timestamp(), 'succeeded');
            END IF;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        IF p_dry_run THEN
            RAISE;
        END IF;
        -- Every step of this call is undone; what stays is the record of why.
        GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
        failure := err_state || ': ' || err_message
                   || coalesce(E'\\nDETAIL: ' || nullif(err_detail, ''), '')
                   || coalesce(E'\\nHINT: ' || nullif(err_hint, ''), '');
        INSERT INTO {SCHEMA}.migration_history
            (revision, direction, via, db_user, started_at, finished_at, outcome, error)
        VALUES (now_revision, now_direction, p_via || '()', session_user, started,
                clock_timestamp(), 'failed', failure);
        SELECT coalesce(array_agg('undone: ' || s ORDER BY o), '{{}}') INTO out_status
        FROM unnest(out_status) WITH ORDINALITY AS u (s, o);
        out_action := out_action || now_action;
        out_object := out_object || now_object;
        out_status := out_status || format(
            'failed: SQLSTATE %s: %s; nothing was changed (the version table stays at %s); '
            'recorded in {SCHEMA}.migration_history', err_state, err_message, current_rev);
        RAISE WARNING '%: % failed at %: SQLSTATE %: %', p_via, now_revision, now_object,
                      err_state, err_message
            USING DETAIL = 'Every step of this call was undone; the version table stays at '
                           || current_rev || '.',
                  HINT = 'Fix the cause and call it again; the failure is recorded in '
                         '{SCHEMA}.migration_history.';
    END;
    RETURN QUERY
    SELECT u.a, u.o, u.s FROM unnest(out_action, out_object, out_status) WITH ORDINALITY
        AS u (a, o, s, n)
    ORDER BY u.n;
END;
$$;
"""

CONFIRMATION = "I_UNDERSTAND_THIS_IS_DESTRUCTIVE"

CREATE_ROLLBACK_ALL = f"""
CREATE OR REPLACE FUNCTION public.rollback_all_migrations(
    p_dry_run boolean DEFAULT true, p_confirm text DEFAULT NULL)
RETURNS TABLE (action text, object_name text, status text)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    lowest text;
BEGIN
    IF p_dry_run IS NULL THEN
        RAISE EXCEPTION 'rollback_all_migrations: p_dry_run must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF NOT p_dry_run THEN
        IF p_confirm IS NULL THEN
            RAISE EXCEPTION 'rollback_all_migrations: a real run needs p_confirm => ''%''',
                            '{CONFIRMATION}'
                USING ERRCODE = '22004';
        END IF;
        IF p_confirm IS DISTINCT FROM '{CONFIRMATION}' THEN
            RAISE EXCEPTION 'rollback_all_migrations: p_confirm must be exactly ''%''; '
                            'nothing was rolled back', '{CONFIRMATION}'
                USING ERRCODE = '22023';
        END IF;
    END IF;
    SELECT r.revision INTO lowest FROM {SCHEMA}.rollback_revisions r
    WHERE r.has_rollback ORDER BY r.position LIMIT 1;
    RETURN QUERY
    SELECT * FROM {SCHEMA}.run_rollback(lowest, p_dry_run, true, 'rollback_all_migrations');
END;
$$;
"""

# The summaries that refresh_descriptor_views() keeps (revision 003's
# bookkeeping, mv_refresh_log; 002's search tables joined it), by the revision
# that makes each, and whether every descriptor row lands in one of its rows.
# They are tables, not materialized views, so pg_class cannot say whether one
# was ever populated. verify_migrations() counts a summary as built when the
# refresh records it (its mv_refresh_log row, once 003 is applied) and, for
# those that summarize every row, it holds rows whenever flavor_descriptors
# holds rows that are not changes waiting for the next refresh. A refresh
# recomputes only the groups that changed, so a summary left empty (a restore
# that skipped its data, a TRUNCATE) would stay empty; a NULL last_refreshed_at
# with rows is a full build pending, not a failure.
SUMMARIES: dict[str, tuple[str, bool]] = {
    "mv_descriptor_search": ("002", True),
    "mv_descriptor_search_shared": ("002", False),
    "mv_descriptor_search_forms": ("002", True),
    "mv_descriptor_search_prefixes": ("002", False),
    "mv_descriptor_search_pairs": ("002", False),
    "mv_descriptor_search_pair_users": ("002", False),
    "mv_descriptor_search_user_pairs": ("002", False),
    "mv_user_descriptor_summary": ("003", True),
    "mv_global_descriptor_stats": ("003", True),
    "mv_category_descriptor_summary": ("003", True),
    "mv_wheel_generation_stats": ("003", True),
    "mv_user_wheel_subcategories": ("003", False),
}
SUMMARY_VALUES = ",\n                     ".join(
    f"('{rev}', '{name}', {str(every).lower()})" for name, (rev, every) in SUMMARIES.items()
)

CREATE_VERIFY = f"""
CREATE OR REPLACE FUNCTION public.verify_migrations()
RETURNS TABLE (migration_name text, status text, verification_result text, details jsonb)
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
DECLARE
    current_rev text;
    current_position bigint;
    db_env text;
    db_variant text;
    rev {SCHEMA}.rollback_revisions;
    checked bigint;
    problems jsonb;
    summary record;
    logged boolean;
    logged_at timestamptz;
    summary_found text;
    summary_repair text;
    has_rows boolean;
    pending bigint;
    unaccounted boolean;
BEGIN
    IF to_regclass('{VERSION_TABLE}') IS NOT NULL THEN
        SELECT max(v.version_num::text) INTO current_rev FROM {VERSION_TABLE} v;
    END IF;
    SELECT r.position INTO current_position FROM {SCHEMA}.rollback_revisions r
    WHERE r.revision = current_rev;
    IF current_rev IS NOT NULL AND current_position IS NULL THEN
        -- A revision newer than this one: every revision known here is beneath it.
        SELECT max(r.position) INTO current_position FROM {SCHEMA}.rollback_revisions r;
    END IF;
    db_env := CASE WHEN to_regnamespace('auth') IS NOT NULL
                     AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'anon')
                THEN 'supabase' ELSE 'plain' END;
    db_variant := CASE WHEN (SELECT c.relkind FROM pg_catalog.pg_class c
                          WHERE c.oid = to_regclass('public.flavor_descriptors')) = 'p'
                    THEN 'switched' ELSE 'plain' END;
    FOR rev IN SELECT * FROM {SCHEMA}.rollback_revisions r ORDER BY r.position LOOP
        migration_name := rev.name;
        IF current_position IS NULL OR rev.position > current_position THEN
            status := 'NOT_APPLIED';
            verification_result := format('not applied: the version table is at %s',
                                          coalesce(current_rev, 'no revision'));
            details := jsonb_build_object('version', current_rev);
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- What this revision left, unless a later applied revision changed it since.
        WITH expected AS (
            SELECT c.kind, c.name, c.state
            FROM {SCHEMA}.revision_catalogue c
            WHERE c.revision = rev.revision
              AND c.env IN ('any', db_env) AND c.variant IN ('any', db_variant)
              AND c.state <> 'absent'
              -- Grants to a role this cluster does not have cannot be checked.
              AND (c.kind <> 'grant' OR EXISTS (
                      SELECT FROM pg_catalog.pg_roles ro
                      WHERE ro.rolname = substring(c.name FROM ' to ([a-z_]+)$')))
              AND NOT EXISTS (
                  SELECT FROM {SCHEMA}.revision_catalogue l
                  JOIN {SCHEMA}.rollback_revisions lr ON lr.revision = l.revision
                  WHERE l.kind = c.kind AND l.name = c.name
                    AND l.env IN ('any', db_env) AND l.variant IN ('any', db_variant)
                    AND lr.position > rev.position AND lr.position <= current_position)
        ),
        found AS (SELECT * FROM {SCHEMA}.catalogue_objects())
        SELECT count(*),
               coalesce(jsonb_agg(jsonb_build_object(
                            'kind', e.kind, 'name', e.name, 'expected', e.state,
                            'found', coalesce(f.state, 'missing'))
                        ORDER BY e.kind, e.name)
                        FILTER (WHERE f.state IS DISTINCT FROM e.state), '[]'::jsonb)
        INTO checked, problems
        FROM expected e
        LEFT JOIN found f ON f.kind = e.kind AND f.name = e.name;
        -- The summaries this revision makes: present is not the same as built.
        FOR summary IN SELECT v.name, v.every_row
                       FROM (VALUES {SUMMARY_VALUES}) AS v (revision, name, every_row)
                       WHERE v.revision = rev.revision
                         -- A missing table is the catalogue's finding.
                         AND to_regclass(format('public.%I', v.name)) IS NOT NULL
                       ORDER BY v.name LOOP
            checked := checked + 1;
            summary_found := NULL;
            summary_repair := 'SELECT public.refresh_descriptor_views(true)';
            logged := NULL;
            logged_at := NULL;
            IF to_regclass('public.mv_refresh_log') IS NOT NULL THEN
                SELECT true, l.last_refreshed_at INTO logged, logged_at
                FROM public.mv_refresh_log l WHERE l.view_name = summary.name;
                IF logged IS NULL THEN
                    summary_found := 'not in public.mv_refresh_log: the refresh keeps no '
                                     'record of building it';
                    -- A row with no time makes the next refresh build everything.
                    summary_repair := format('INSERT INTO public.mv_refresh_log (view_name) '
                                             'VALUES (%L); SELECT public.refresh_descriptor_views()',
                                             summary.name);
                END IF;
            END IF;
            IF summary_found IS NULL AND summary.every_row THEN
                EXECUTE format('SELECT EXISTS (SELECT FROM public.%I)', summary.name)
                    INTO has_rows;
                -- Empty is right while every descriptor row is a change the next
                -- refresh will take (written since the last one); the count
                -- stops there, so it costs no more than the changes waiting.
                pending := 0;
                IF NOT has_rows AND to_regclass('public.mv_refresh_changes') IS NOT NULL THEN
                    SELECT coalesce(sum(c.changed_rows), 0)::bigint INTO pending
                    FROM public.mv_refresh_changes c;
                END IF;
                unaccounted := NOT has_rows AND (
                    SELECT count(*) FROM (SELECT FROM public.flavor_descriptors
                                          LIMIT pending + 1) d) > pending;
                IF unaccounted THEN
                    summary_found := 'no rows while public.flavor_descriptors has rows: never '
                        || CASE WHEN logged AND logged_at IS NULL
                                THEN 'built (its first build is pending)'
                                ELSE 'built, and a refresh of what changed will not fill it' END;
                END IF;
            END IF;
            IF summary_found IS NOT NULL THEN
                problems := problems || jsonb_build_array(jsonb_build_object(
                    'kind', 'summary', 'name', 'public.' || summary.name,
                    'expected', 'built by refresh_descriptor_views()',
                    'found', summary_found,
                    'repair', summary_repair));
            END IF;
        END LOOP;
        details := jsonb_build_object('checked', checked, 'problems', problems,
                                      'environment', db_env, 'table', db_variant);
        IF checked = 0 THEN
            status := 'FAILED';
            verification_result := format('revision %s has no catalogue in revision %s: '
                                          'regenerate it (`python -m tests.revision_catalogue`)',
                                          rev.revision, '{revision}');
        ELSIF jsonb_array_length(problems) = 0 THEN
            status := 'VERIFIED';
            verification_result := format('all %s objects present and as the revision made them',
                                          checked);
        ELSE
            status := 'FAILED';
            verification_result := format('%s of %s objects missing or different',
                                          jsonb_array_length(problems), checked);
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
"""

WRAPPER = f"""
CREATE OR REPLACE FUNCTION public.{{function}}(
    p_dry_run boolean DEFAULT true, p_cascade boolean DEFAULT false)
RETURNS TABLE (action text, object_name text, status text)
LANGUAGE sql
SET search_path = ''
AS $$
SELECT * FROM {SCHEMA}.run_rollback('{{revision}}', p_dry_run, p_cascade, '{{function}}');
$$;
"""

# Nothing here is for the API roles: Supabase's default privileges give every
# new function in public to them, so take it back.
REVOKE_TEMPLATE = """
DO $$
DECLARE
    r text;
    target text;
BEGIN
    FOREACH target IN ARRAY ARRAY[{targets}] LOOP
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', target);
        FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
            IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
                EXECUTE format('REVOKE ALL ON %s FROM %I', target, r);
            END IF;
        END LOOP;
    END LOOP;
END;
$$;
"""

CATALOGUE = """
000	any	any	column	public.flavor_descriptors.category	text
000	any	any	column	public.flavor_descriptors.confidence_score	numeric(3,2)
000	any	any	column	public.flavor_descriptors.created_at	timestamp with time zone
000	any	any	column	public.flavor_descriptors.descriptor_text	text not null
000	any	any	column	public.flavor_descriptors.descriptor_type	text not null
000	any	any	column	public.flavor_descriptors.id	uuid not null
000	any	any	column	public.flavor_descriptors.intensity	integer
000	any	any	column	public.flavor_descriptors.item_category	text
000	any	any	column	public.flavor_descriptors.item_name	text
000	any	any	column	public.flavor_descriptors.source_id	uuid not null
000	any	any	column	public.flavor_descriptors.source_type	text not null
000	any	any	column	public.flavor_descriptors.subcategory	text
000	any	any	column	public.flavor_descriptors.updated_at	timestamp with time zone
000	any	any	column	public.flavor_descriptors.user_id	uuid not null
000	any	any	column	public.flavor_wheels.created_at	timestamp with time zone
000	any	any	column	public.flavor_wheels.data_sources_count	integer
000	any	any	column	public.flavor_wheels.expires_at	timestamp with time zone
000	any	any	column	public.flavor_wheels.generated_at	timestamp with time zone
000	any	any	column	public.flavor_wheels.id	uuid not null
000	any	any	column	public.flavor_wheels.scope_filter	jsonb
000	any	any	column	public.flavor_wheels.scope_type	text not null
000	any	any	column	public.flavor_wheels.total_descriptors	integer
000	any	any	column	public.flavor_wheels.unique_descriptors	integer
000	any	any	column	public.flavor_wheels.updated_at	timestamp with time zone
000	any	any	column	public.flavor_wheels.user_id	uuid
000	any	any	column	public.flavor_wheels.version	integer
000	any	any	column	public.flavor_wheels.wheel_data	jsonb not null
000	any	any	column	public.flavor_wheels.wheel_type	text not null
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_confidence_score_check	c validated, definition 9be76871b3a70ef71ba45bea0aa295ea
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_descriptor_type_check	c validated, definition 4533c02f85ec54bce3d735165842082e
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_intensity_check	c validated, definition 3851d8323427492015ebf90fe278d181
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_source_descriptor_key	u validated, definition 18b302f2329c2adda0681b1cddd1833f
000	any	any	constraint	public.flavor_descriptors.flavor_descriptors_source_type_check	c validated, definition ac1a36ce2a84a0cb451ac083a4c44056
000	any	any	constraint	public.flavor_wheels.flavor_wheels_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
000	any	any	constraint	public.flavor_wheels.flavor_wheels_scope_type_check	c validated, definition 09a0106d4fd6a979326398cb0235c58c
000	any	any	constraint	public.flavor_wheels.flavor_wheels_wheel_type_check	c validated, definition 8b73da6db5393443accdbf241e2048c3
000	any	any	function	public.update_updated_at_column()	definition d1c167581681e87fa02b49c803df27aa
000	any	any	grant	function public.update_updated_at_column() to anon	EXECUTE
000	any	any	grant	function public.update_updated_at_column() to authenticated	EXECUTE
000	any	any	grant	schema flavatix_migrations to anon	none
000	any	any	grant	schema flavatix_migrations to authenticated	none
000	any	any	index	public.flavor_descriptors_pkey	valid, definition 88d57d1756f32ad5fc961d6eb5e4876a
000	any	any	index	public.flavor_descriptors_source_descriptor_key	valid, definition 81c99a92cabcb8da48b6aa7aaaef3af0
000	any	any	index	public.flavor_wheels_pkey	valid, definition d2f05afa852e06638c4aaedd000fde5a
000	any	any	index	public.idx_flavor_descriptors_category	valid, definition 04cc80925a43ed4cc0ddf8bc245ce67d
000	any	any	index	public.idx_flavor_descriptors_created_at	valid, definition e721b7da5bfc26bd52d17bfa2e18de1a
000	any	any	index	public.idx_flavor_descriptors_item	valid, definition a5a9a33124a386fa63f40a62645d64f7
000	any	any	index	public.idx_flavor_descriptors_source	valid, definition b99c9d100818675d0c524801f2affce6
000	any	any	index	public.idx_flavor_descriptors_type	valid, definition b80c8efc470497bf0f8f9923573d55cb
000	any	any	index	public.idx_flavor_descriptors_user_id	valid, definition 6ab96983c834b01fe7afca16a8e6c3e7
000	any	any	index	public.idx_flavor_descriptors_user_type_created	valid, definition 1c7097056918439709fc7da27732d00b
000	any	any	index	public.idx_flavor_wheels_generated_at	valid, definition cd0c13a9b1dce98fff97587279f690ad
000	any	any	index	public.idx_flavor_wheels_scope	valid, definition 3600e7b43efca9a81ef0a075f03c46fc
000	any	any	index	public.idx_flavor_wheels_scope_filter	valid, definition f48fe10fea4f85ced3b84d275f807837
000	any	any	index	public.idx_flavor_wheels_user_id	valid, definition 164bd4bd76acbd751301d22556523fcb
000	any	any	schema	flavatix_migrations	present
000	any	any	trigger	public.flavor_descriptors.update_flavor_descriptors_updated_at	enabled, definition 9cf9991dfa5577701e3ae333451957fb
000	any	any	trigger	public.flavor_wheels.update_flavor_wheels_updated_at	enabled, definition 6651a1d01b93b1870a7209ee281a83a9
000	plain	any	grant	relation public.flavor_descriptors to anon	none
000	plain	any	grant	relation public.flavor_descriptors to authenticated	none
000	plain	any	grant	relation public.flavor_wheels to anon	none
000	plain	any	grant	relation public.flavor_wheels to authenticated	none
000	plain	any	table	public.flavor_descriptors	table
000	plain	any	table	public.flavor_wheels	table
000	supabase	any	constraint	public.flavor_descriptors.flavor_descriptors_user_id_fkey	f validated, definition 85d8b2f5f0c0f6b4dcb854efb61a8cb1
000	supabase	any	constraint	public.flavor_wheels.flavor_wheels_user_id_fkey	f validated, definition 85d8b2f5f0c0f6b4dcb854efb61a8cb1
000	supabase	any	grant	relation public.flavor_descriptors to anon	DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE
000	supabase	any	grant	relation public.flavor_descriptors to authenticated	DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE
000	supabase	any	grant	relation public.flavor_wheels to anon	DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE
000	supabase	any	grant	relation public.flavor_wheels to authenticated	DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE
000	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_delete_own	definition 47e0d7f71315411922f0f99713431b42
000	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_insert_own	definition fa6010623170e12f2c6c8ebd084366c6
000	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_select_own	definition 6324e32eaf43c281ad83e43f91c73ac5
000	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_update_own	definition 173aefede0a67e4f4696def08f485fe5
000	supabase	any	policy	public.flavor_wheels.flavor_wheels_delete_own	definition 47e0d7f71315411922f0f99713431b42
000	supabase	any	policy	public.flavor_wheels.flavor_wheels_insert_own	definition fa6010623170e12f2c6c8ebd084366c6
000	supabase	any	policy	public.flavor_wheels.flavor_wheels_select_own_or_universal	definition 21c050e1dfb872c97638762d7ba05e5e
000	supabase	any	policy	public.flavor_wheels.flavor_wheels_update_own	definition 173aefede0a67e4f4696def08f485fe5
000	supabase	any	table	public.flavor_descriptors	table, row level security
000	supabase	any	table	public.flavor_wheels	table, row level security
001	any	any	column	public.flavor_descriptors.ai_extracted	boolean not null
001	any	any	column	public.flavor_descriptors.extraction_model	text
001	any	any	column	public.flavor_descriptors.normalized_form	text not null
001	any	any	constraint	public.flavor_descriptors.ck_flavor_descriptors_descriptor_type	c validated, definition 963e35eb3f1bac5156e6b0c53a0a6199
001	any	any	constraint	public.flavor_descriptors.ck_flavor_descriptors_source_type	c validated, definition b3c190fc863a7bf91dd0e721fc9c6154
001	any	any	constraint	public.flavor_descriptors.flavor_descriptors_descriptor_type_check	absent
001	any	any	constraint	public.flavor_descriptors.flavor_descriptors_source_type_check	absent
001	any	any	function	public.descriptor_exists(uuid,text,text)	definition 0078e792a53a3ba719d0c623fae3fead
001	any	any	function	public.flavor_descriptors_set_normalized_form()	definition 8ec69ea1dfb21f86e8adfc4c68003f1c
001	any	any	grant	function public.descriptor_exists(uuid,text,text) to anon	EXECUTE
001	any	any	grant	function public.descriptor_exists(uuid,text,text) to authenticated	EXECUTE
001	any	any	grant	function public.flavor_descriptors_set_normalized_form() to anon	EXECUTE
001	any	any	grant	function public.flavor_descriptors_set_normalized_form() to authenticated	EXECUTE
001	any	any	grant	function public.normalize_descriptor_text(text) to anon	EXECUTE
001	any	any	grant	function public.normalize_descriptor_text(text) to authenticated	EXECUTE
001	any	any	index	public.ix_flavor_descriptors_ai_extracted	valid, definition 467c1ea0a4dff042e0d5ac84df1d0349
001	any	any	index	public.ix_flavor_descriptors_category_subcategory	valid, definition d135b4e14fe1f519035b23947e61d573
001	any	any	index	public.ix_flavor_descriptors_user_normalized_type	valid, definition a6765d602d4338bd541db8b48946478d
001	any	any	index	public.ix_flavor_wheels_expires_at	valid, definition 0709644d7bf25d7fdfff306cf32721c9
001	any	any	index	public.ix_flavor_wheels_user_wheel_scope	valid, definition 889d86e9d57c46fee06f0a159dce9345
001	any	any	index	public.uq_flavor_descriptors_source_normalized_type	valid, definition 82b435eb807eca7ea3e443d546d1eb87
001	any	any	trigger	public.flavor_descriptors.zz_flavor_descriptors_normalized_form	enabled, definition 8e0f6e62b31907331e5fd13ab9f8b22f
001	plain	any	extension	unaccent	in schema public
001	plain	any	function	public.normalize_descriptor_text(text)	definition 1aa898a1c3ed868a259ebe2f79c85709
001	supabase	any	extension	unaccent	in schema extensions
001	supabase	any	function	public.normalize_descriptor_text(text)	definition 689ac0db67c15b0afafc5e25ef36fbd0
001	supabase	any	grant	relation public.flavor_descriptors to anon	DELETE,INSERT,SELECT,UPDATE
001	supabase	any	grant	relation public.flavor_descriptors to authenticated	DELETE,INSERT,SELECT,UPDATE
001	supabase	any	grant	relation public.flavor_wheels to anon	DELETE,INSERT,SELECT,UPDATE
001	supabase	any	grant	relation public.flavor_wheels to authenticated	DELETE,INSERT,SELECT,UPDATE
001	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_delete_own	definition ad9734396881c9fc374fa8b205561c30
001	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_insert_own	definition 2433760c299df2a145697e5d4b0280d1
001	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_select_own	definition 12cd04c22cf6db80f51963c64f54e899
001	supabase	any	policy	public.flavor_descriptors.flavor_descriptors_update_own	definition af5ac772bcb37616f75477a0b7d0d978
001	supabase	any	policy	public.flavor_wheels.flavor_wheels_delete_own	definition ad9734396881c9fc374fa8b205561c30
001	supabase	any	policy	public.flavor_wheels.flavor_wheels_insert_own	definition 2433760c299df2a145697e5d4b0280d1
001	supabase	any	policy	public.flavor_wheels.flavor_wheels_select_own_or_universal	definition 7af1d06c4ddc4534e6fda47745cb962a
001	supabase	any	policy	public.flavor_wheels.flavor_wheels_update_own	definition af5ac772bcb37616f75477a0b7d0d978
002	any	any	column	public.mv_descriptor_search.category	text
002	any	any	column	public.mv_descriptor_search.descriptor_text	text
002	any	any	column	public.mv_descriptor_search.descriptor_type	text
002	any	any	column	public.mv_descriptor_search.normalized_form	text
002	any	any	column	public.mv_descriptor_search.sample_id	uuid
002	any	any	column	public.mv_descriptor_search.subcategory	text
002	any	any	column	public.mv_descriptor_search.unique_users	bigint
002	any	any	column	public.mv_descriptor_search.usage_count	bigint
002	any	any	column	public.mv_descriptor_search_forms.category	text
002	any	any	column	public.mv_descriptor_search_forms.descriptor_text	text
002	any	any	column	public.mv_descriptor_search_forms.descriptor_type	text
002	any	any	column	public.mv_descriptor_search_forms.normalized_form	text
002	any	any	column	public.mv_descriptor_search_forms.sample_id	uuid
002	any	any	column	public.mv_descriptor_search_forms.subcategory	text
002	any	any	column	public.mv_descriptor_search_forms.trigram_count	integer
002	any	any	column	public.mv_descriptor_search_forms.usage_count	bigint
002	any	any	column	public.mv_descriptor_search_pair_users.user_id	uuid
002	any	any	column	public.mv_descriptor_search_pairs.form_a	text
002	any	any	column	public.mv_descriptor_search_pairs.form_b	text
002	any	any	column	public.mv_descriptor_search_pairs.similarity	real
002	any	any	column	public.mv_descriptor_search_prefixes.category	text
002	any	any	column	public.mv_descriptor_search_prefixes.descriptor_text	text
002	any	any	column	public.mv_descriptor_search_prefixes.descriptor_type	text
002	any	any	column	public.mv_descriptor_search_prefixes.normalized_form	text
002	any	any	column	public.mv_descriptor_search_prefixes.prefix	text
002	any	any	column	public.mv_descriptor_search_prefixes.rank	bigint
002	any	any	column	public.mv_descriptor_search_prefixes.usage_count	bigint
002	any	any	column	public.mv_descriptor_search_shared.category	text
002	any	any	column	public.mv_descriptor_search_shared.descriptor_text	text
002	any	any	column	public.mv_descriptor_search_shared.descriptor_type	text
002	any	any	column	public.mv_descriptor_search_shared.normalized_form	text
002	any	any	column	public.mv_descriptor_search_shared.subcategory	text
002	any	any	column	public.mv_descriptor_search_shared.unique_users	bigint
002	any	any	column	public.mv_descriptor_search_shared.usage_count	bigint
002	any	any	column	public.mv_descriptor_search_user_pairs.descriptor1_id	uuid
002	any	any	column	public.mv_descriptor_search_user_pairs.descriptor1_text	text
002	any	any	column	public.mv_descriptor_search_user_pairs.descriptor2_id	uuid
002	any	any	column	public.mv_descriptor_search_user_pairs.descriptor2_text	text
002	any	any	column	public.mv_descriptor_search_user_pairs.descriptor_type	text
002	any	any	column	public.mv_descriptor_search_user_pairs.form_a	text
002	any	any	column	public.mv_descriptor_search_user_pairs.form_b	text
002	any	any	column	public.mv_descriptor_search_user_pairs.similarity	real
002	any	any	column	public.mv_descriptor_search_user_pairs.user_id	uuid
002	any	any	function	public.descriptor_search_vector(text,text,text)	definition 6f55d1c24298293be8480720fa377649
002	any	any	function	public.flavatix_caller_user(uuid,text)	definition ed33d13365d3a31d758599a465a3ed47
002	any	any	function	public.flavatix_check_descriptor_type(text,text)	definition 22c993cdca4c4f331be658c1b94a1235
002	any	any	function	public.flavatix_check_limit(text,text,integer,integer)	definition 528aabb8e6404c6e2fcc268242760c7d
002	any	any	function	public.flavatix_check_text(text,text,text)	definition b26feb4d2d6e471d811fa4b14f532aa1
002	any	any	function	public.flavatix_check_threshold(text,double precision)	definition 5e624226fddf34eed2507178c9b5de4f
002	any	any	grant	function public.autocomplete_descriptors(text,uuid,text,text,integer) to anon	EXECUTE
002	any	any	grant	function public.autocomplete_descriptors(text,uuid,text,text,integer) to authenticated	EXECUTE
002	any	any	grant	function public.descriptor_search_vector(text,text,text) to anon	EXECUTE
002	any	any	grant	function public.descriptor_search_vector(text,text,text) to authenticated	EXECUTE
002	any	any	grant	function public.find_duplicate_descriptors(uuid,double precision,integer) to anon	EXECUTE
002	any	any	grant	function public.find_duplicate_descriptors(uuid,double precision,integer) to authenticated	EXECUTE
002	any	any	grant	function public.find_similar_descriptors(text,uuid,text,double precision,integer) to anon	EXECUTE
002	any	any	grant	function public.find_similar_descriptors(text,uuid,text,double precision,integer) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_caller_user(uuid,text) to anon	EXECUTE
002	any	any	grant	function public.flavatix_caller_user(uuid,text) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_check_descriptor_type(text,text) to anon	EXECUTE
002	any	any	grant	function public.flavatix_check_descriptor_type(text,text) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_check_limit(text,text,integer,integer) to anon	EXECUTE
002	any	any	grant	function public.flavatix_check_limit(text,text,integer,integer) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_check_text(text,text,text) to anon	EXECUTE
002	any	any	grant	function public.flavatix_check_text(text,text,text) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_check_threshold(text,double precision) to anon	EXECUTE
002	any	any	grant	function public.flavatix_check_threshold(text,double precision) to authenticated	EXECUTE
002	any	any	grant	function public.flavatix_forms_similar_to(text) to anon	none
002	any	any	grant	function public.flavatix_forms_similar_to(text) to authenticated	none
002	any	any	grant	function public.flavatix_refresh_search(uuid[],text[],boolean,uuid[],text[],text[],boolean) to anon	none
002	any	any	grant	function public.flavatix_refresh_search(uuid[],text[],boolean,uuid[],text[],text[],boolean) to authenticated	none
002	any	any	grant	function public.suggest_descriptor_category(text,double precision) to anon	EXECUTE
002	any	any	grant	function public.suggest_descriptor_category(text,double precision) to authenticated	EXECUTE
002	any	any	grant	relation public.mv_descriptor_search to anon	none
002	any	any	grant	relation public.mv_descriptor_search to authenticated	none
002	any	any	grant	relation public.mv_descriptor_search_forms to anon	none
002	any	any	grant	relation public.mv_descriptor_search_forms to authenticated	none
002	any	any	grant	relation public.mv_descriptor_search_pairs to anon	none
002	any	any	grant	relation public.mv_descriptor_search_pairs to authenticated	none
002	any	any	grant	relation public.mv_descriptor_search_prefixes to anon	none
002	any	any	grant	relation public.mv_descriptor_search_prefixes to authenticated	none
002	any	any	index	public.ix_flavor_descriptors_search_vector	valid, definition 4040a5caaaad223e5c80b5db490b3268
002	any	any	index	public.ix_mv_descriptor_search_prefix	valid, definition 6c8bce52e3e81101230bcd62863b9380
002	any	any	index	public.ux_mv_descriptor_search_forms_key	valid, definition 7920362e0e8eb13ef338c865c66c1848
002	any	any	index	public.ux_mv_descriptor_search_key	valid, definition 6e0870d33d7e788423a3a66dbe4c43b9
002	any	any	index	public.ux_mv_descriptor_search_pair_users_key	valid, definition c2a513335b31cc956497515020c693ed
002	any	any	index	public.ux_mv_descriptor_search_pairs_key	valid, definition 08d8244e7cf7898f4e86911ac242e110
002	any	any	index	public.ux_mv_descriptor_search_prefixes_key	valid, definition 0fe0d2966c1bc231cc14cd5bb54ed9d6
002	any	any	index	public.ux_mv_descriptor_search_shared_key	valid, definition e2780ab27b2a40a84289ac8b25af7145
002	any	any	index	public.ux_mv_descriptor_search_user_pairs_key	valid, definition 520ab6f1b0bb5ac43e4bbccb4c82ef5e
002	any	any	table	public.mv_descriptor_search	table, row level security
002	any	any	table	public.mv_descriptor_search_forms	table, row level security
002	any	any	table	public.mv_descriptor_search_pair_users	table, row level security
002	any	any	table	public.mv_descriptor_search_pairs	table, row level security
002	any	any	table	public.mv_descriptor_search_prefixes	table, row level security
002	any	any	table	public.mv_descriptor_search_shared	table, row level security
002	any	any	table	public.mv_descriptor_search_user_pairs	table, row level security
002	plain	any	extension	pg_trgm	in schema public
002	plain	any	function	public.autocomplete_descriptors(text,uuid,text,text,integer)	definition a399463e6556e1c1ee32f89673754036
002	plain	any	function	public.find_duplicate_descriptors(uuid,double precision,integer)	definition a3283ccd7e8173bdaeddfca989bdaa2d
002	plain	any	function	public.find_similar_descriptors(text,uuid,text,double precision,integer)	definition 2e9d365be7acdc27eb15af99ce18eafd
002	plain	any	function	public.flavatix_forms_similar_to(text)	definition 751acfd58fbad678d8130f702b48cad1
002	plain	any	function	public.flavatix_refresh_search(uuid[],text[],boolean,uuid[],text[],text[],boolean)	definition ad811c7a5f4c41faee6c9a3e7bd98312
002	plain	any	function	public.suggest_descriptor_category(text,double precision)	definition 78cb12ddc5a4c2632b1747549dc503fe
002	plain	any	grant	relation public.mv_descriptor_search_pair_users to anon	none
002	plain	any	grant	relation public.mv_descriptor_search_pair_users to authenticated	none
002	plain	any	grant	relation public.mv_descriptor_search_shared to anon	none
002	plain	any	grant	relation public.mv_descriptor_search_shared to authenticated	none
002	plain	any	grant	relation public.mv_descriptor_search_user_pairs to anon	none
002	plain	any	grant	relation public.mv_descriptor_search_user_pairs to authenticated	none
002	plain	any	index	public.ix_flavor_descriptors_category_trgm	valid, definition 4214c37db9e8559526aff59187f45a87
002	plain	any	index	public.ix_flavor_descriptors_normalized_trgm	valid, definition 0dddac7e86b4160e02d64bc9e1664c51
002	plain	any	index	public.ix_flavor_descriptors_subcategory_trgm	valid, definition 21aa987efd7b5227bede75e62817990e
002	plain	any	index	public.ix_flavor_descriptors_text_trgm	valid, definition e6c771962b16e013d438138432c85893
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_0_6	valid, definition a5c636609cf375d8a03b50493355cc1a
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_11_12	valid, definition 50d26c7f9e2afbb1b0ae8866471331b5
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_13_14	valid, definition 05c32a8ebe870824c6841caaf95a4559
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_15_16	valid, definition 025e0a7a689f95d4200255a337332a09
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_17_18	valid, definition 4759c60756647d26c8cb229bf5bbbb42
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_19_21	valid, definition 0847854825b20cdd2b2165e89135a9bb
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_22_up	valid, definition ead63410c764b221537c650899fbb6cb
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_7_8	valid, definition e272b51907a6d5f408eda63dd6204e23
002	plain	any	index	public.ix_mv_descriptor_search_forms_trgm_9_10	valid, definition 2fc1ee8f2df38cb56eb581505b90c6ac
002	plain	any	index	public.ix_mv_descriptor_search_shared_trgm	valid, definition e19f872b17362dbf2e35abbf19fbec9b
002	plain	any	index	public.ix_mv_descriptor_search_trgm	valid, definition 5aa0923eef5dd9bfb81745a65a1745d5
002	supabase	any	extension	pg_trgm	in schema extensions
002	supabase	any	function	public.autocomplete_descriptors(text,uuid,text,text,integer)	definition 3cc5cccefe93e5e2134ed5a6426cebe3
002	supabase	any	function	public.find_duplicate_descriptors(uuid,double precision,integer)	definition 690eab9e096fcc0334ce76d6c6c785e2
002	supabase	any	function	public.find_similar_descriptors(text,uuid,text,double precision,integer)	definition c7c85a980cc1034f4fd746075baedbf0
002	supabase	any	function	public.flavatix_forms_similar_to(text)	definition 204ecbede3e8cd39e4aaa3f59e1186b9
002	supabase	any	function	public.flavatix_refresh_search(uuid[],text[],boolean,uuid[],text[],text[],boolean)	definition c47ff395ae71b2f1820f969cdcb8d1c3
002	supabase	any	function	public.suggest_descriptor_category(text,double precision)	definition aa67a41228767d379e2255035db791a8
002	supabase	any	grant	relation public.mv_descriptor_search_pair_users to anon	SELECT
002	supabase	any	grant	relation public.mv_descriptor_search_pair_users to authenticated	SELECT
002	supabase	any	grant	relation public.mv_descriptor_search_shared to anon	SELECT
002	supabase	any	grant	relation public.mv_descriptor_search_shared to authenticated	SELECT
002	supabase	any	grant	relation public.mv_descriptor_search_user_pairs to anon	SELECT
002	supabase	any	grant	relation public.mv_descriptor_search_user_pairs to authenticated	SELECT
002	supabase	any	index	public.ix_flavor_descriptors_category_trgm	valid, definition 947ba5f340f99e44f476fe31f1b252b3
002	supabase	any	index	public.ix_flavor_descriptors_normalized_trgm	valid, definition cc105710121059b13d6aceb4054e6d31
002	supabase	any	index	public.ix_flavor_descriptors_subcategory_trgm	valid, definition a72d5cde63ab60cb9b70cb5b2c68476d
002	supabase	any	index	public.ix_flavor_descriptors_text_trgm	valid, definition 7ade2f08c8d65941f546ab06d0f1501e
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_0_6	valid, definition 91e731ee119238b1786541fc47bf06b5
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_11_12	valid, definition 5bf39937067c3da5825f7fdb02b11de2
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_13_14	valid, definition d0b425b9f8eb6d31a5e84f738bcd6eed
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_15_16	valid, definition b21cf6eb06f71f8c1cd41ac336e44d5e
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_17_18	valid, definition 4301706fcd7d563f1bdd1461cac156f7
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_19_21	valid, definition 7ae36ae321af4b97f700fd670d676a89
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_22_up	valid, definition f6f44d32f2934e7576db230f8fee84b6
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_7_8	valid, definition 4565db7255d0e8abf8d395ad6b4f262f
002	supabase	any	index	public.ix_mv_descriptor_search_forms_trgm_9_10	valid, definition 7ddb8619dacee1f3912267ab575ab4af
002	supabase	any	index	public.ix_mv_descriptor_search_shared_trgm	valid, definition 025ad712b2961459b54a47c4239cc5a0
002	supabase	any	index	public.ix_mv_descriptor_search_trgm	valid, definition c57e9aa3c1cef8324ce04525e35e49c7
002	supabase	any	policy	public.mv_descriptor_search_pair_users.mv_descriptor_search_pair_users_read_own	definition a0314d17768ef9e7168fad6752726466
002	supabase	any	policy	public.mv_descriptor_search_shared.mv_descriptor_search_shared_read	definition 9eed2d451a2d623c4bd9a3d033bf5171
002	supabase	any	policy	public.mv_descriptor_search_user_pairs.mv_descriptor_search_user_pairs_read_own	definition a0314d17768ef9e7168fad6752726466
003	any	any	column	public.mv_category_descriptor_summary.avg_confidence	numeric
003	any	any	column	public.mv_category_descriptor_summary.avg_intensity	numeric
003	any	any	column	public.mv_category_descriptor_summary.category	text
003	any	any	column	public.mv_category_descriptor_summary.descriptor_text	text
003	any	any	column	public.mv_category_descriptor_summary.descriptor_type	text
003	any	any	column	public.mv_category_descriptor_summary.intensity_count	bigint
003	any	any	column	public.mv_category_descriptor_summary.intensity_sum	bigint
003	any	any	column	public.mv_category_descriptor_summary.item_category	text
003	any	any	column	public.mv_category_descriptor_summary.item_count	bigint
003	any	any	column	public.mv_category_descriptor_summary.last_used_at	timestamp with time zone
003	any	any	column	public.mv_category_descriptor_summary.median_intensity	double precision
003	any	any	column	public.mv_category_descriptor_summary.normalized_form	text
003	any	any	column	public.mv_category_descriptor_summary.subcategory	text
003	any	any	column	public.mv_category_descriptor_summary.total_occurrences	bigint
003	any	any	column	public.mv_category_descriptor_summary.unique_users	bigint
003	any	any	column	public.mv_global_descriptor_stats.avg_confidence	numeric
003	any	any	column	public.mv_global_descriptor_stats.avg_intensity	numeric
003	any	any	column	public.mv_global_descriptor_stats.category	text
003	any	any	column	public.mv_global_descriptor_stats.category_breadth	bigint
003	any	any	column	public.mv_global_descriptor_stats.descriptor_text	text
003	any	any	column	public.mv_global_descriptor_stats.descriptor_type	text
003	any	any	column	public.mv_global_descriptor_stats.intensity_count	bigint
003	any	any	column	public.mv_global_descriptor_stats.intensity_sum	bigint
003	any	any	column	public.mv_global_descriptor_stats.last_used_at	timestamp with time zone
003	any	any	column	public.mv_global_descriptor_stats.median_intensity	double precision
003	any	any	column	public.mv_global_descriptor_stats.normalized_form	text
003	any	any	column	public.mv_global_descriptor_stats.subcategory	text
003	any	any	column	public.mv_global_descriptor_stats.total_occurrences	bigint
003	any	any	column	public.mv_global_descriptor_stats.unique_users	bigint
003	any	any	column	public.mv_refresh_changes.ai_extracted	boolean
003	any	any	column	public.mv_refresh_changes.category	text
003	any	any	column	public.mv_refresh_changes.changed_rows	bigint not null
003	any	any	column	public.mv_refresh_changes.confidence_score	numeric
003	any	any	column	public.mv_refresh_changes.created_at	timestamp with time zone
003	any	any	column	public.mv_refresh_changes.descriptor_text	text
003	any	any	column	public.mv_refresh_changes.descriptor_type	text
003	any	any	column	public.mv_refresh_changes.id	bigint not null
003	any	any	column	public.mv_refresh_changes.intensity	integer
003	any	any	column	public.mv_refresh_changes.item_category	text
003	any	any	column	public.mv_refresh_changes.item_name	text
003	any	any	column	public.mv_refresh_changes.normalized_form	text
003	any	any	column	public.mv_refresh_changes.recorded_at	timestamp with time zone not null
003	any	any	column	public.mv_refresh_changes.sign	bigint not null
003	any	any	column	public.mv_refresh_changes.source_id	uuid
003	any	any	column	public.mv_refresh_changes.source_type	text
003	any	any	column	public.mv_refresh_changes.subcategory	text
003	any	any	column	public.mv_refresh_changes.user_id	uuid
003	any	any	column	public.mv_refresh_global_groups.category	text
003	any	any	column	public.mv_refresh_global_groups.descriptor_type	text not null
003	any	any	column	public.mv_refresh_global_groups.normalized_form	text not null
003	any	any	column	public.mv_refresh_global_groups.sample_id	text
003	any	any	column	public.mv_refresh_global_groups.subcategory	text
003	any	any	column	public.mv_refresh_global_groups.users	bigint not null
003	any	any	column	public.mv_refresh_group_items.category	text
003	any	any	column	public.mv_refresh_group_items.descriptor_type	text not null
003	any	any	column	public.mv_refresh_group_items.item_category	text
003	any	any	column	public.mv_refresh_group_items.item_name	text not null
003	any	any	column	public.mv_refresh_group_items.normalized_form	text not null
003	any	any	column	public.mv_refresh_group_items.occurrences	bigint not null
003	any	any	column	public.mv_refresh_group_items.subcategory	text
003	any	any	column	public.mv_refresh_group_texts.category	text
003	any	any	column	public.mv_refresh_group_texts.descriptor_text	text not null
003	any	any	column	public.mv_refresh_group_texts.descriptor_type	text not null
003	any	any	column	public.mv_refresh_group_texts.item_category	text
003	any	any	column	public.mv_refresh_group_texts.normalized_form	text not null
003	any	any	column	public.mv_refresh_group_texts.occurrences	bigint not null
003	any	any	column	public.mv_refresh_group_texts.subcategory	text
003	any	any	column	public.mv_refresh_group_users.category	text
003	any	any	column	public.mv_refresh_group_users.descriptor_type	text not null
003	any	any	column	public.mv_refresh_group_users.item_category	text
003	any	any	column	public.mv_refresh_group_users.last_used_at	timestamp with time zone
003	any	any	column	public.mv_refresh_group_users.normalized_form	text not null
003	any	any	column	public.mv_refresh_group_users.occurrences	bigint not null
003	any	any	column	public.mv_refresh_group_users.sample_id	text
003	any	any	column	public.mv_refresh_group_users.subcategory	text
003	any	any	column	public.mv_refresh_group_users.user_id	uuid not null
003	any	any	column	public.mv_refresh_groups.category	text
003	any	any	column	public.mv_refresh_groups.confidence_count	bigint not null
003	any	any	column	public.mv_refresh_groups.confidence_sum	numeric not null
003	any	any	column	public.mv_refresh_groups.descriptor_type	text not null
003	any	any	column	public.mv_refresh_groups.intensity_1	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_2	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_3	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_4	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_5	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_count	bigint not null
003	any	any	column	public.mv_refresh_groups.intensity_sum	bigint not null
003	any	any	column	public.mv_refresh_groups.item_category	text
003	any	any	column	public.mv_refresh_groups.items	bigint not null
003	any	any	column	public.mv_refresh_groups.last_used_at	timestamp with time zone
003	any	any	column	public.mv_refresh_groups.normalized_form	text not null
003	any	any	column	public.mv_refresh_groups.occurrences	bigint not null
003	any	any	column	public.mv_refresh_groups.subcategory	text
003	any	any	column	public.mv_refresh_groups.users	bigint not null
003	any	any	column	public.mv_refresh_log.last_refreshed_at	timestamp with time zone
003	any	any	column	public.mv_refresh_log.view_name	text not null
003	any	any	column	public.mv_refresh_user_categories.category	text
003	any	any	column	public.mv_refresh_user_categories.occurrences	bigint not null
003	any	any	column	public.mv_refresh_user_categories.user_id	uuid not null
003	any	any	column	public.mv_refresh_user_sources.occurrences	bigint not null
003	any	any	column	public.mv_refresh_user_sources.source_id	uuid not null
003	any	any	column	public.mv_refresh_user_sources.source_type	text not null
003	any	any	column	public.mv_refresh_user_sources.user_id	uuid not null
003	any	any	column	public.mv_user_descriptor_summary.any_ai_extracted	boolean
003	any	any	column	public.mv_user_descriptor_summary.avg_confidence	numeric
003	any	any	column	public.mv_user_descriptor_summary.avg_intensity	numeric
003	any	any	column	public.mv_user_descriptor_summary.category	text
003	any	any	column	public.mv_user_descriptor_summary.descriptor_text	text
003	any	any	column	public.mv_user_descriptor_summary.descriptor_type	text
003	any	any	column	public.mv_user_descriptor_summary.first_used_at	timestamp with time zone
003	any	any	column	public.mv_user_descriptor_summary.intensity_count	bigint
003	any	any	column	public.mv_user_descriptor_summary.intensity_sum	bigint
003	any	any	column	public.mv_user_descriptor_summary.item_categories	text[]
003	any	any	column	public.mv_user_descriptor_summary.item_count	bigint
003	any	any	column	public.mv_user_descriptor_summary.last_used_at	timestamp with time zone
003	any	any	column	public.mv_user_descriptor_summary.normalized_form	text
003	any	any	column	public.mv_user_descriptor_summary.occurrence_count	bigint
003	any	any	column	public.mv_user_descriptor_summary.source_count	bigint
003	any	any	column	public.mv_user_descriptor_summary.subcategory	text
003	any	any	column	public.mv_user_descriptor_summary.user_id	uuid
003	any	any	column	public.mv_user_wheel_subcategories.category	text
003	any	any	column	public.mv_user_wheel_subcategories.descriptor_count	numeric
003	any	any	column	public.mv_user_wheel_subcategories.first_descriptors	jsonb
003	any	any	column	public.mv_user_wheel_subcategories.form_count	bigint
003	any	any	column	public.mv_user_wheel_subcategories.subcategory	text
003	any	any	column	public.mv_user_wheel_subcategories.top_descriptors	jsonb
003	any	any	column	public.mv_user_wheel_subcategories.unique_descriptors	bigint
003	any	any	column	public.mv_user_wheel_subcategories.user_id	uuid
003	any	any	column	public.mv_user_wheel_subcategories.wheel_type	text
003	any	any	column	public.mv_wheel_generation_stats.ai_extracted_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.aroma_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.category_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.defect_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.flavor_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.keyword_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.latest_descriptor_at	timestamp with time zone
003	any	any	column	public.mv_wheel_generation_stats.metaphor_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.mouthfeel_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.source_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.texture_count	bigint
003	any	any	column	public.mv_wheel_generation_stats.total_descriptors	bigint
003	any	any	column	public.mv_wheel_generation_stats.unique_descriptors	bigint
003	any	any	column	public.mv_wheel_generation_stats.user_id	uuid
003	any	any	constraint	public.mv_refresh_changes.mv_refresh_changes_changed_rows_check	c validated, definition c6eb651cb4d7243c2d9e52842e315657
003	any	any	constraint	public.mv_refresh_changes.mv_refresh_changes_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
003	any	any	constraint	public.mv_refresh_changes.mv_refresh_changes_sign_check	c validated, definition fee9a77cac118d15b83634ba75543b59
003	any	any	constraint	public.mv_refresh_log.mv_refresh_log_pkey	p validated, definition 050a7a53259171761033491dacd1a4e2
003	any	any	function	public.flavatix_wheel_json(text,uuid,text,text[],integer,integer)	definition 169ff9b37615575bb94076c105e0186c
003	any	any	function	public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer)	definition a25902118df6947406a4ca1d03909d1c
003	any	any	function	public.flavor_descriptors_count_changes()	definition 33ecd7dd4be4034bfc1058f082c82731
003	any	any	function	public.flavor_descriptors_count_insert()	definition 82f7be42207f75f2696e93ac2d151ea3
003	any	any	function	public.generate_wheel_data_optimized(uuid,text,integer,integer)	definition 417c6bc4bc92e192277e5866cfd7324a
003	any	any	function	public.refresh_descriptor_views(boolean)	definition a22efde0e43901308e34ccbaef6d7498
003	any	any	function	public.should_refresh_views(integer)	definition 7106d933280d1b3d24c17e25a5eb3a3d
003	any	any	grant	function public.flavor_descriptors_count_changes() to anon	none
003	any	any	grant	function public.flavor_descriptors_count_changes() to authenticated	none
003	any	any	grant	function public.flavor_descriptors_count_insert() to anon	none
003	any	any	grant	function public.flavor_descriptors_count_insert() to authenticated	none
003	any	any	grant	function public.generate_wheel_data_optimized(uuid,text,integer,integer) to anon	EXECUTE
003	any	any	grant	function public.generate_wheel_data_optimized(uuid,text,integer,integer) to authenticated	EXECUTE
003	any	any	grant	function public.refresh_descriptor_views(boolean) to anon	none
003	any	any	grant	function public.refresh_descriptor_views(boolean) to authenticated	none
003	any	any	grant	function public.should_refresh_views(integer) to anon	none
003	any	any	grant	function public.should_refresh_views(integer) to authenticated	none
003	any	any	grant	relation public.mv_refresh_changes to anon	none
003	any	any	grant	relation public.mv_refresh_changes to authenticated	none
003	any	any	grant	relation public.mv_refresh_global_groups to anon	none
003	any	any	grant	relation public.mv_refresh_global_groups to authenticated	none
003	any	any	grant	relation public.mv_refresh_group_items to anon	none
003	any	any	grant	relation public.mv_refresh_group_items to authenticated	none
003	any	any	grant	relation public.mv_refresh_group_texts to anon	none
003	any	any	grant	relation public.mv_refresh_group_texts to authenticated	none
003	any	any	grant	relation public.mv_refresh_group_users to anon	none
003	any	any	grant	relation public.mv_refresh_group_users to authenticated	none
003	any	any	grant	relation public.mv_refresh_groups to anon	none
003	any	any	grant	relation public.mv_refresh_groups to authenticated	none
003	any	any	grant	relation public.mv_refresh_status to anon	none
003	any	any	grant	relation public.mv_refresh_status to authenticated	none
003	any	any	grant	relation public.mv_refresh_user_categories to anon	none
003	any	any	grant	relation public.mv_refresh_user_categories to authenticated	none
003	any	any	grant	relation public.mv_refresh_user_sources to anon	none
003	any	any	grant	relation public.mv_refresh_user_sources to authenticated	none
003	any	any	index	public.ix_mv_category_descriptor_summary_group	valid, definition 665f15b18e96ba44ec479553de2a1756
003	any	any	index	public.ix_mv_global_descriptor_stats_group	valid, definition beb9ecb53c9f47ef7f953d94224947b7
003	any	any	index	public.ix_mv_user_descriptor_summary_wheel	valid, definition 50e714f88d4c3e80b9d64fd420c716ce
003	any	any	index	public.mv_refresh_changes_pkey	valid, definition 413442033d992c3198188b3ec68de6c4
003	any	any	index	public.mv_refresh_global_groups_key	valid, definition 00e3174111cfd1692ab51be2529b451f
003	any	any	index	public.mv_refresh_group_items_key	valid, definition fb48f6244a07a164f8806539950d539c
003	any	any	index	public.mv_refresh_group_texts_key	valid, definition 0047f5a239c497681382afba4bdefe2f
003	any	any	index	public.mv_refresh_group_users_key	valid, definition 02502e32a2207cab23d9d10dafe2ee00
003	any	any	index	public.mv_refresh_group_users_newest	valid, definition 93d97464efd882f705b2a45fcd464a6f
003	any	any	index	public.mv_refresh_groups_key	valid, definition ce37b07ba974ab117f4b7af8c1cbab9f
003	any	any	index	public.mv_refresh_log_pkey	valid, definition c94d1c8fd0af31adb1df08e2f10abcaf
003	any	any	index	public.mv_refresh_user_categories_key	valid, definition 18d739e8b9b9db9a8003601169c0bc3e
003	any	any	index	public.mv_refresh_user_sources_key	valid, definition fda40507e2c6382b70ed1a54d927ef7a
003	any	any	index	public.ux_mv_category_descriptor_summary_key	valid, definition d87593981109b499eee394ef02daaeab
003	any	any	index	public.ux_mv_global_descriptor_stats_key	valid, definition 3d6aa0ab0fa744d078f8c9d79733939f
003	any	any	index	public.ux_mv_user_descriptor_summary_key	valid, definition 62d99e6688f63657b15e5e062956f3db
003	any	any	index	public.ux_mv_user_wheel_subcategories_key	valid, definition 1b76b6f708d37ca03fa0ed77c3a0d373
003	any	any	index	public.ux_mv_wheel_generation_stats_key	valid, definition 762a012cd867cc7470f64603e858b2b2
003	any	any	table	public.mv_category_descriptor_summary	table, row level security
003	any	any	table	public.mv_global_descriptor_stats	table, row level security
003	any	any	table	public.mv_refresh_changes	table, row level security
003	any	any	table	public.mv_refresh_global_groups	table, row level security
003	any	any	table	public.mv_refresh_group_items	table, row level security
003	any	any	table	public.mv_refresh_group_texts	table, row level security
003	any	any	table	public.mv_refresh_group_users	table, row level security
003	any	any	table	public.mv_refresh_groups	table, row level security
003	any	any	table	public.mv_refresh_log	table, row level security
003	any	any	table	public.mv_refresh_user_categories	table, row level security
003	any	any	table	public.mv_refresh_user_sources	table, row level security
003	any	any	table	public.mv_user_descriptor_summary	table, row level security
003	any	any	table	public.mv_user_wheel_subcategories	table, row level security
003	any	any	table	public.mv_wheel_generation_stats	table, row level security
003	any	any	trigger	public.flavor_descriptors.flavor_descriptors_count_deletes	enabled, definition b384ca3db228f8adad78b1d6ef31c0bc
003	any	any	trigger	public.flavor_descriptors.flavor_descriptors_count_inserts	enabled, definition 16e1d58bf0e7b68c43b06a74c1c06e5f
003	any	any	trigger	public.flavor_descriptors.flavor_descriptors_count_updates	enabled, definition 0abce7e8050506d2b9b9e32a7b9dc0cd
003	any	any	view	public.mv_refresh_status	definition 57b3860b989aa6283397c57a8d8dbae1
003	plain	any	grant	function public.flavatix_wheel_json(text,uuid,text,text[],integer,integer) to anon	none
003	plain	any	grant	function public.flavatix_wheel_json(text,uuid,text,text[],integer,integer) to authenticated	none
003	plain	any	grant	function public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer) to anon	none
003	plain	any	grant	function public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer) to authenticated	none
003	plain	any	grant	relation public.mv_category_descriptor_summary to anon	none
003	plain	any	grant	relation public.mv_category_descriptor_summary to authenticated	none
003	plain	any	grant	relation public.mv_global_descriptor_stats to anon	none
003	plain	any	grant	relation public.mv_global_descriptor_stats to authenticated	none
003	plain	any	grant	relation public.mv_refresh_log to anon	none
003	plain	any	grant	relation public.mv_refresh_log to authenticated	none
003	plain	any	grant	relation public.mv_user_descriptor_summary to anon	none
003	plain	any	grant	relation public.mv_user_descriptor_summary to authenticated	none
003	plain	any	grant	relation public.mv_user_wheel_subcategories to anon	none
003	plain	any	grant	relation public.mv_user_wheel_subcategories to authenticated	none
003	plain	any	grant	relation public.mv_wheel_generation_stats to anon	none
003	plain	any	grant	relation public.mv_wheel_generation_stats to authenticated	none
003	supabase	any	grant	function public.flavatix_wheel_json(text,uuid,text,text[],integer,integer) to anon	EXECUTE
003	supabase	any	grant	function public.flavatix_wheel_json(text,uuid,text,text[],integer,integer) to authenticated	EXECUTE
003	supabase	any	grant	function public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer) to anon	EXECUTE
003	supabase	any	grant	function public.flavatix_wheel_json_from_forms(text,uuid,text,text[],integer,integer) to authenticated	EXECUTE
003	supabase	any	grant	relation public.mv_category_descriptor_summary to anon	SELECT
003	supabase	any	grant	relation public.mv_category_descriptor_summary to authenticated	SELECT
003	supabase	any	grant	relation public.mv_global_descriptor_stats to anon	SELECT
003	supabase	any	grant	relation public.mv_global_descriptor_stats to authenticated	SELECT
003	supabase	any	grant	relation public.mv_refresh_log to anon	SELECT
003	supabase	any	grant	relation public.mv_refresh_log to authenticated	SELECT
003	supabase	any	grant	relation public.mv_user_descriptor_summary to anon	SELECT
003	supabase	any	grant	relation public.mv_user_descriptor_summary to authenticated	SELECT
003	supabase	any	grant	relation public.mv_user_wheel_subcategories to anon	SELECT
003	supabase	any	grant	relation public.mv_user_wheel_subcategories to authenticated	SELECT
003	supabase	any	grant	relation public.mv_wheel_generation_stats to anon	SELECT
003	supabase	any	grant	relation public.mv_wheel_generation_stats to authenticated	SELECT
003	supabase	any	policy	public.mv_category_descriptor_summary.mv_category_descriptor_summary_read	definition dd9d48204984763c3e1e181f1d52a9b7
003	supabase	any	policy	public.mv_global_descriptor_stats.mv_global_descriptor_stats_read	definition dd9d48204984763c3e1e181f1d52a9b7
003	supabase	any	policy	public.mv_refresh_log.mv_refresh_log_read	definition 9eed2d451a2d623c4bd9a3d033bf5171
003	supabase	any	policy	public.mv_user_descriptor_summary.mv_user_descriptor_summary_read_own	definition a0314d17768ef9e7168fad6752726466
003	supabase	any	policy	public.mv_user_wheel_subcategories.mv_user_wheel_subcategories_read_own	definition a0314d17768ef9e7168fad6752726466
003	supabase	any	policy	public.mv_wheel_generation_stats.mv_wheel_generation_stats_read_own	definition a0314d17768ef9e7168fad6752726466
004	any	any	column	public.query_performance_hints.cache_ttl_seconds	bigint
004	any	any	column	public.query_performance_hints.description	text not null
004	any	any	column	public.query_performance_hints.materialized_view	text
004	any	any	column	public.query_performance_hints.notes	text
004	any	any	column	public.query_performance_hints.query_type	text not null
004	any	any	column	public.query_performance_hints.recommended_indexes	text[] not null
004	any	any	column	public.query_performance_hints.use_pagination	boolean not null
004	any	any	constraint	public.query_performance_hints.query_performance_hints_pkey	p validated, definition 390d3e90de752fd1631faa9d94c01a37
004	any	any	function	public.batch_insert_descriptors(jsonb,uuid,text,uuid)	definition b5bc59abe8bc4c5b5a8edf91eff3169a
004	any	any	function	public.estimate_descriptor_count(uuid)	definition d863275ed3101caf217e9515c7122bf6
004	any	any	function	public.get_descriptor_timeline(uuid,integer,text)	definition d05e7590388021b1243aa06d0fe5d8c3
004	any	any	function	public.get_descriptors_paginated(uuid,text,text,uuid,timestamp with time zone,integer,text)	definition dcbb60e8d6acca080f4c842b32e2c3c4
004	any	any	function	public.get_top_descriptors(uuid,text,text,integer)	definition 590f567d460d0a5f866d92b88d7fccf1
004	any	any	function	public.get_user_descriptor_stats(uuid)	definition 3ac4dae12f5ebeb516fd6e0c97019ca2
004	any	any	function	public.get_wheel_data_fast(uuid,text,text,text)	definition c725c4e2314e8d17e7ac8e7983b78848
004	any	any	function	public.wheel_needs_regeneration(uuid,integer)	definition 5996f4b2ea6708c8fbb52ea90e473342
004	any	any	grant	function public.batch_insert_descriptors(jsonb,uuid,text,uuid) to anon	EXECUTE
004	any	any	grant	function public.batch_insert_descriptors(jsonb,uuid,text,uuid) to authenticated	EXECUTE
004	any	any	grant	function public.estimate_descriptor_count(uuid) to anon	EXECUTE
004	any	any	grant	function public.estimate_descriptor_count(uuid) to authenticated	EXECUTE
004	any	any	grant	function public.get_descriptor_timeline(uuid,integer,text) to anon	EXECUTE
004	any	any	grant	function public.get_descriptor_timeline(uuid,integer,text) to authenticated	EXECUTE
004	any	any	grant	function public.get_descriptors_paginated(uuid,text,text,uuid,timestamp with time zone,integer,text) to anon	EXECUTE
004	any	any	grant	function public.get_descriptors_paginated(uuid,text,text,uuid,timestamp with time zone,integer,text) to authenticated	EXECUTE
004	any	any	grant	function public.get_top_descriptors(uuid,text,text,integer) to anon	EXECUTE
004	any	any	grant	function public.get_top_descriptors(uuid,text,text,integer) to authenticated	EXECUTE
004	any	any	grant	function public.get_user_descriptor_stats(uuid) to anon	EXECUTE
004	any	any	grant	function public.get_user_descriptor_stats(uuid) to authenticated	EXECUTE
004	any	any	grant	function public.get_wheel_data_fast(uuid,text,text,text) to anon	EXECUTE
004	any	any	grant	function public.get_wheel_data_fast(uuid,text,text,text) to authenticated	EXECUTE
004	any	any	grant	function public.wheel_needs_regeneration(uuid,integer) to anon	EXECUTE
004	any	any	grant	function public.wheel_needs_regeneration(uuid,integer) to authenticated	EXECUTE
004	any	any	grant	relation public.query_performance_hints to authenticated	SELECT
004	any	any	index	public.ix_flavor_descriptors_user_created_id	valid, definition ee1f93cee9c864c5a05c8dab21893921
004	any	any	index	public.query_performance_hints_pkey	valid, definition ee3278305e404316b9bba9557d0c7f30
004	any	any	policy	public.query_performance_hints.query_performance_hints_read	definition 33c7a09f1fca406d47099566c84bb7c1
004	any	any	table	public.query_performance_hints	table, row level security
004	plain	any	grant	relation public.query_performance_hints to anon	SELECT
004	supabase	any	grant	relation public.query_performance_hints to anon	none
005	any	any	column	flavatix_partitions.migration_state.copy_cursor	uuid
005	any	any	column	flavatix_partitions.migration_state.last_check	jsonb
005	any	any	column	flavatix_partitions.migration_state.phase	text not null
005	any	any	column	flavatix_partitions.migration_state.plain_unique_ddl	jsonb not null
005	any	any	column	flavatix_partitions.migration_state.rows_copied	bigint not null
005	any	any	column	flavatix_partitions.migration_state.rows_total	bigint not null
005	any	any	column	flavatix_partitions.migration_state.singleton	boolean not null
005	any	any	column	flavatix_partitions.migration_state.started_at	timestamp with time zone
005	any	any	column	flavatix_partitions.migration_state.switched_at	timestamp with time zone
005	any	any	column	flavatix_partitions.migration_state.target	text
005	any	any	column	flavatix_partitions.migration_state.updated_at	timestamp with time zone not null
005	any	any	column	public.partition_maintenance_log.action	text not null
005	any	any	column	public.partition_maintenance_log.db_user	text not null
005	any	any	column	public.partition_maintenance_log.detail	text
005	any	any	column	public.partition_maintenance_log.id	bigint not null
005	any	any	column	public.partition_maintenance_log.logged_at	timestamp with time zone not null
005	any	any	column	public.partition_maintenance_log.partition_name	text
005	any	any	column	public.partition_maintenance_log.rows_affected	bigint
005	any	any	constraint	flavatix_partitions.migration_state.migration_state_phase_check	c validated, definition 30e22d0d141779886610cf9829fe16da
005	any	any	constraint	flavatix_partitions.migration_state.migration_state_pkey	p validated, definition 7511e9a8e50c073e1d6eff73afcc0f24
005	any	any	constraint	flavatix_partitions.migration_state.migration_state_singleton_check	c validated, definition ae6f6dfbe38290d5bfa8f3e96d1aff91
005	any	any	constraint	flavatix_partitions.migration_state.migration_state_target_check	c validated, definition 50f0aa95d09d8373a657aba66e873c69
005	any	any	constraint	public.partition_maintenance_log.partition_maintenance_log_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
005	any	any	function	flavatix_partitions.build_view(text,text)	definition fa566eb0550d798088829c624d2c57d1
005	any	any	function	flavatix_partitions.check_switchable()	definition 9a05b3b0ad17cf9d74b6a0f589ad31ed
005	any	any	function	flavatix_partitions.cleanup()	definition 743cbdfe71d03e2a08fdc87615499f56
005	any	any	function	flavatix_partitions.columns(regclass,text)	definition 438161650c53cb1c44ba080a5f532467
005	any	any	function	flavatix_partitions.compare(regclass,regclass)	definition 17b4d75fc9836d557f01fc02d2ec4de0
005	any	any	function	flavatix_partitions.copy_stamp(regclass,regclass)	definition 9f8a5a83502149864d0c9bdbc0761940
005	any	any	function	flavatix_partitions.create_month(regclass,date)	definition fce32ffb3fa2ce0734016898b7dcbdb6
005	any	any	function	flavatix_partitions.create_partitioned(regclass)	definition f9b4ad65b89112f1e25db9c390ce2a9d
005	any	any	function	flavatix_partitions.create_unpartitioned(regclass)	definition 4e1b5a0058e90c5871b53f961199ab00
005	any	any	function	flavatix_partitions.dependent_views()	definition fe3e260f2307e4ca9bce8f7efcbcb0a4
005	any	any	function	flavatix_partitions.drop_mirror(regclass)	definition 255b30fd1b725c4e9d12440a9a538772
005	any	any	function	flavatix_partitions.has_mirror(regclass)	definition 0c44b71a0682713df8753a31ba426e90
005	any	any	function	flavatix_partitions.install_mirror(regclass,regclass)	definition 4ddf97f3791c73151d938b5d221673a3
005	any	any	function	flavatix_partitions.keep_keys()	definition 954fb47c9df6725fffcdeaf1bbdc1b30
005	any	any	function	flavatix_partitions.live_kind()	definition 81868afff1ee537445609f7b3bea7092
005	any	any	function	flavatix_partitions.lock_tables(regclass[],text,text,integer)	definition 3e33fef840bc87657678d47f0769bce8
005	any	any	function	flavatix_partitions.log(text,text,bigint,text)	definition 2849ec29a144b576f1255775bc3d3ffa
005	any	any	function	flavatix_partitions.months(regclass)	definition a6cd638979b21ca5796518e645975cb3
005	any	any	function	flavatix_partitions.partition_name(date)	definition f7d4d339d198c4d8e868cf924b09ebde
005	any	any	function	flavatix_partitions.run_to(text,integer,boolean)	definition 10f249bc9da30583a6a425c04b7531dd
005	any	any	function	flavatix_partitions.step(text,integer,boolean)	definition 1db6b30f771dcc98639df7c3c20c6e2e
005	any	any	function	flavatix_partitions.swap(regclass)	definition 23c36b927321759310d8891c55061744
005	any	any	function	flavatix_partitions.switch(regclass,text,integer)	definition f762c79e0a13e5cc7185c6efcb8f6b60
005	any	any	function	flavatix_partitions.table_of_kind(text)	definition 15529da4140ee067b9651945193a7a03
005	any	any	function	flavatix_partitions.truncate_keys()	definition 9936d8fe60d3ad191f93f1df0f9a4b8f
005	any	any	function	public.analyze_all_partitions()	definition ac085da01eaad7eb5bd6d98288cd8700
005	any	any	function	public.archive_old_partitions(integer)	definition c6b8743c8121c36b48f56995deb3138b
005	any	any	function	public.batch_insert_descriptors(jsonb,uuid,text,uuid)	definition e5a9c050b18e8e0523d13a37b941a9d0
005	any	any	function	public.create_descriptor_partition(integer,integer)	definition d1298cb4eae79bd60288f1bfe53f5be3
005	any	any	function	public.detach_partition(text)	definition 0ff222a634b2f7371b88a57612cdbb85
005	any	any	function	public.ensure_future_partitions(integer)	definition bceb99dd013f2eeb9707c1f9af75df83
005	any	any	function	public.flavatix_partitioned_table(text)	definition 0bd71c9a25ea257ab1ae5711ddab76d9
005	any	any	function	public.get_partition_for_date(timestamp with time zone)	definition 08cca0c06b763958c0ac1081f07dc4bd
005	any	any	function	public.migrate_to_partitioned_table(integer,boolean)	definition 2452ec9a5e5b3c83aec154189a729d6d
005	any	any	function	public.run_partition_maintenance()	definition 9860cd882e6b38e89bae2c8d65efed8d
005	any	any	grant	function flavatix_partitions.build_view(text,text) to anon	none
005	any	any	grant	function flavatix_partitions.build_view(text,text) to authenticated	none
005	any	any	grant	function flavatix_partitions.check_switchable() to anon	none
005	any	any	grant	function flavatix_partitions.check_switchable() to authenticated	none
005	any	any	grant	function flavatix_partitions.cleanup() to anon	none
005	any	any	grant	function flavatix_partitions.cleanup() to authenticated	none
005	any	any	grant	function flavatix_partitions.columns(regclass,text) to anon	none
005	any	any	grant	function flavatix_partitions.columns(regclass,text) to authenticated	none
005	any	any	grant	function flavatix_partitions.compare(regclass,regclass) to anon	none
005	any	any	grant	function flavatix_partitions.compare(regclass,regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.copy_stamp(regclass,regclass) to anon	none
005	any	any	grant	function flavatix_partitions.copy_stamp(regclass,regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.create_month(regclass,date) to anon	none
005	any	any	grant	function flavatix_partitions.create_month(regclass,date) to authenticated	none
005	any	any	grant	function flavatix_partitions.create_partitioned(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.create_partitioned(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.create_unpartitioned(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.create_unpartitioned(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.dependent_views() to anon	none
005	any	any	grant	function flavatix_partitions.dependent_views() to authenticated	none
005	any	any	grant	function flavatix_partitions.drop_mirror(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.drop_mirror(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.has_mirror(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.has_mirror(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.install_mirror(regclass,regclass) to anon	none
005	any	any	grant	function flavatix_partitions.install_mirror(regclass,regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.keep_keys() to anon	none
005	any	any	grant	function flavatix_partitions.keep_keys() to authenticated	none
005	any	any	grant	function flavatix_partitions.live_kind() to anon	none
005	any	any	grant	function flavatix_partitions.live_kind() to authenticated	none
005	any	any	grant	function flavatix_partitions.lock_tables(regclass[],text,text,integer) to anon	none
005	any	any	grant	function flavatix_partitions.lock_tables(regclass[],text,text,integer) to authenticated	none
005	any	any	grant	function flavatix_partitions.log(text,text,bigint,text) to anon	none
005	any	any	grant	function flavatix_partitions.log(text,text,bigint,text) to authenticated	none
005	any	any	grant	function flavatix_partitions.months(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.months(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.partition_name(date) to anon	none
005	any	any	grant	function flavatix_partitions.partition_name(date) to authenticated	none
005	any	any	grant	function flavatix_partitions.run_to(text,integer,boolean) to anon	none
005	any	any	grant	function flavatix_partitions.run_to(text,integer,boolean) to authenticated	none
005	any	any	grant	function flavatix_partitions.step(text,integer,boolean) to anon	none
005	any	any	grant	function flavatix_partitions.step(text,integer,boolean) to authenticated	none
005	any	any	grant	function flavatix_partitions.swap(regclass) to anon	none
005	any	any	grant	function flavatix_partitions.swap(regclass) to authenticated	none
005	any	any	grant	function flavatix_partitions.switch(regclass,text,integer) to anon	none
005	any	any	grant	function flavatix_partitions.switch(regclass,text,integer) to authenticated	none
005	any	any	grant	function flavatix_partitions.table_of_kind(text) to anon	none
005	any	any	grant	function flavatix_partitions.table_of_kind(text) to authenticated	none
005	any	any	grant	function flavatix_partitions.truncate_keys() to anon	none
005	any	any	grant	function flavatix_partitions.truncate_keys() to authenticated	none
005	any	any	grant	function public.analyze_all_partitions() to anon	none
005	any	any	grant	function public.analyze_all_partitions() to authenticated	none
005	any	any	grant	function public.archive_old_partitions(integer) to anon	none
005	any	any	grant	function public.archive_old_partitions(integer) to authenticated	none
005	any	any	grant	function public.create_descriptor_partition(integer,integer) to anon	none
005	any	any	grant	function public.create_descriptor_partition(integer,integer) to authenticated	none
005	any	any	grant	function public.detach_partition(text) to anon	none
005	any	any	grant	function public.detach_partition(text) to authenticated	none
005	any	any	grant	function public.ensure_future_partitions(integer) to anon	none
005	any	any	grant	function public.ensure_future_partitions(integer) to authenticated	none
005	any	any	grant	function public.flavatix_partitioned_table(text) to anon	none
005	any	any	grant	function public.flavatix_partitioned_table(text) to authenticated	none
005	any	any	grant	function public.get_partition_for_date(timestamp with time zone) to anon	none
005	any	any	grant	function public.get_partition_for_date(timestamp with time zone) to authenticated	none
005	any	any	grant	function public.migrate_to_partitioned_table(integer,boolean) to anon	none
005	any	any	grant	function public.migrate_to_partitioned_table(integer,boolean) to authenticated	none
005	any	any	grant	function public.run_partition_maintenance() to anon	none
005	any	any	grant	function public.run_partition_maintenance() to authenticated	none
005	any	any	grant	relation flavatix_partitions.migration_state to anon	none
005	any	any	grant	relation flavatix_partitions.migration_state to authenticated	none
005	any	any	grant	relation public.partition_maintenance_log to anon	none
005	any	any	grant	relation public.partition_maintenance_log to authenticated	none
005	any	any	grant	schema flavatix_partitions to anon	none
005	any	any	grant	schema flavatix_partitions to authenticated	none
005	any	any	grant	schema flavatix_unpartitioned to anon	none
005	any	any	grant	schema flavatix_unpartitioned to authenticated	none
005	any	any	index	flavatix_partitions.migration_state_pkey	valid, definition c42195f60917a6e2e37c2a6088b73620
005	any	any	index	public.partition_maintenance_log_pkey	valid, definition 1dea13465d1155501345f166f27632a9
005	any	any	schema	flavatix_partitions	present
005	any	any	schema	flavatix_unpartitioned	present
005	any	any	table	flavatix_partitions.migration_state	table
005	any	any	table	public.partition_maintenance_log	table, row level security
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.descriptor_text	text not null
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.descriptor_type	text not null
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.id	uuid not null
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.normalized_form	text not null
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.source_id	uuid not null
005	any	switched	column	flavatix_partitions.flavor_descriptor_keys.source_type	text not null
005	any	switched	column	public.flavor_descriptors.created_at	timestamp with time zone not null
005	any	switched	constraint	flavatix_partitions.flavor_descriptor_keys.flavor_descriptor_keys_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
005	any	switched	constraint	flavatix_partitions.flavor_descriptor_keys.flavor_descriptors_source_descriptor_key	u validated, definition 18b302f2329c2adda0681b1cddd1833f
005	any	switched	constraint	flavatix_partitions.flavor_descriptor_keys.uq_flavor_descriptors_source_normalized_type	u validated, definition 1a2d229158f7ad55c3b3db9c756065bd
005	any	switched	constraint	public.flavor_descriptors.flavor_descriptors_pkey	p validated, definition fb25dc318f8837cc8f229decb4fd7783
005	any	switched	constraint	public.flavor_descriptors.flavor_descriptors_source_descriptor_key	absent
005	any	switched	function	flavatix_partitions.mirror_to_partitioned()	definition bcd3872eb85d03b2d590822b781219c1
005	any	switched	function	flavatix_partitions.mirror_to_unpartitioned()	definition fa3eaafdf1b04871f025db3e687b09bb
005	any	switched	grant	function flavatix_partitions.mirror_to_partitioned() to anon	none
005	any	switched	grant	function flavatix_partitions.mirror_to_partitioned() to authenticated	none
005	any	switched	grant	function flavatix_partitions.mirror_to_unpartitioned() to anon	none
005	any	switched	grant	function flavatix_partitions.mirror_to_unpartitioned() to authenticated	none
005	any	switched	grant	relation flavatix_partitions.flavor_descriptor_keys to anon	none
005	any	switched	grant	relation flavatix_partitions.flavor_descriptor_keys to authenticated	none
005	any	switched	index	flavatix_partitions.flavor_descriptor_keys_pkey	valid, definition b22b8e97f0af5a1294733fe383bb8932
005	any	switched	index	flavatix_partitions.flavor_descriptors_source_descriptor_key	valid, definition e8b25a2cfab49aa2ddeabbf38dc6cfc3
005	any	switched	index	flavatix_partitions.uq_flavor_descriptors_source_normalized_type	valid, definition ba35a3902c583096c28da663c30658a5
005	any	switched	index	public.flavor_descriptors_pkey	valid, definition 2f68bf6965c2e6682734d654a83bc108
005	any	switched	index	public.flavor_descriptors_source_descriptor_key	absent
005	any	switched	index	public.idx_flavor_descriptors_category	valid, definition 68be448da33df9eb51e7248abacca837
005	any	switched	index	public.idx_flavor_descriptors_created_at	valid, definition afb04249caf6413552d556bec6de82aa
005	any	switched	index	public.idx_flavor_descriptors_item	valid, definition 6e4e174701e69ffc2a021e9e51fec846
005	any	switched	index	public.idx_flavor_descriptors_source	valid, definition 62de6bde9dfd158c674ce451ea5b2b07
005	any	switched	index	public.idx_flavor_descriptors_type	valid, definition 82a975cca163620ca03df2a9a25a82cc
005	any	switched	index	public.idx_flavor_descriptors_user_id	valid, definition 0d867414ff219108637497e0890c1187
005	any	switched	index	public.idx_flavor_descriptors_user_type_created	valid, definition 4ee77d52c7b419c378de1dea75d20812
005	any	switched	index	public.ix_flavor_descriptors_ai_extracted	valid, definition 15e95134d405142f6b357b36363c44d5
005	any	switched	index	public.ix_flavor_descriptors_category_subcategory	valid, definition 05000c91cd0d675544db3b3f05c935fa
005	any	switched	index	public.ix_flavor_descriptors_search_vector	valid, definition 13ee0f7ed50a69e24014755e5118fcd1
005	any	switched	index	public.ix_flavor_descriptors_user_created_id	valid, definition 86df1c60d3239bbf9c6745f7e1d97e89
005	any	switched	index	public.ix_flavor_descriptors_user_normalized_type	valid, definition 10b59ca985cda1bd8cd00b08c9ba7b13
005	any	switched	index	public.uq_flavor_descriptors_source_normalized_type	absent
005	any	switched	table	flavatix_partitions.flavor_descriptor_keys	table
005	any	switched	trigger	public.flavor_descriptors.flavatix_partition_keys	enabled, definition e4429356d0bd93c52fea8ffd9d9278e8
005	any	switched	trigger	public.flavor_descriptors.flavatix_partition_keys_truncate	enabled, definition e7851182e9b04dc5c96dad16f9fe0296
005	plain	switched	index	public.ix_flavor_descriptors_category_trgm	valid, definition 4df660eb22e50e52ed9d38f1347c129f
005	plain	switched	index	public.ix_flavor_descriptors_normalized_trgm	valid, definition 8b14ec12023dfd4363bd08657f870eca
005	plain	switched	index	public.ix_flavor_descriptors_subcategory_trgm	valid, definition 0c829612c69a80eb105817ef8d5298a3
005	plain	switched	index	public.ix_flavor_descriptors_text_trgm	valid, definition 609f31a59ffae761cb4f3afd7d6f3b7e
005	plain	switched	table	public.flavor_descriptors	partitioned by RANGE (created_at) with a default partition
005	supabase	switched	index	public.ix_flavor_descriptors_category_trgm	valid, definition 4d99d1e875215b75a46dd5d2ff7cf1bb
005	supabase	switched	index	public.ix_flavor_descriptors_normalized_trgm	valid, definition 97ddecb38b7937f202d97b23e5b58d5c
005	supabase	switched	index	public.ix_flavor_descriptors_subcategory_trgm	valid, definition 37dd8565b9176b11047362e454d41e1d
005	supabase	switched	index	public.ix_flavor_descriptors_text_trgm	valid, definition 5eeb0bd69c1d2c1ce7036978e1e781a9
005	supabase	switched	table	public.flavor_descriptors	partitioned by RANGE (created_at) with a default partition, row level security
006	any	any	column	flavatix_ops.job_runs.detail	text
006	any	any	column	flavatix_ops.job_runs.error	text
006	any	any	column	flavatix_ops.job_runs.finished_at	timestamp with time zone not null
006	any	any	column	flavatix_ops.job_runs.id	bigint not null
006	any	any	column	flavatix_ops.job_runs.job	text not null
006	any	any	column	flavatix_ops.job_runs.outcome	text not null
006	any	any	column	flavatix_ops.job_runs.runner	text not null
006	any	any	column	flavatix_ops.job_runs.started_at	timestamp with time zone not null
006	any	any	column	public.performance_alerts.acknowledged	boolean not null
006	any	any	column	public.performance_alerts.alert_key	text not null
006	any	any	column	public.performance_alerts.alert_type	text not null
006	any	any	column	public.performance_alerts.details	jsonb not null
006	any	any	column	public.performance_alerts.id	bigint not null
006	any	any	column	public.performance_alerts.message	text not null
006	any	any	column	public.performance_alerts.raised_at	timestamp with time zone not null
006	any	any	column	public.performance_alerts.resolved_at	timestamp with time zone
006	any	any	column	public.performance_alerts.severity	text not null
006	any	any	column	public.performance_baselines.description	text not null
006	any	any	column	public.performance_baselines.functions	text[] not null
006	any	any	column	public.performance_baselines.p95_target_ms	numeric not null
006	any	any	column	public.performance_baselines.plan_after_max_ms	numeric not null
006	any	any	column	public.performance_baselines.plan_after_min_ms	numeric not null
006	any	any	column	public.performance_baselines.query_type	text not null
006	any	any	column	public.performance_snapshot_statements.calls	bigint not null
006	any	any	column	public.performance_snapshot_statements.queryid	bigint not null
006	any	any	column	public.performance_snapshot_statements.rows	bigint not null
006	any	any	column	public.performance_snapshot_statements.shared_blks_hit	bigint not null
006	any	any	column	public.performance_snapshot_statements.shared_blks_read	bigint not null
006	any	any	column	public.performance_snapshot_statements.snapshot_id	bigint not null
006	any	any	column	public.performance_snapshot_statements.toplevel	boolean not null
006	any	any	column	public.performance_snapshot_statements.total_exec_ms	double precision not null
006	any	any	column	public.performance_snapshot_statements.userid	oid not null
006	any	any	column	public.performance_snapshots.active_connections	bigint not null
006	any	any	column	public.performance_snapshots.blks_hit	bigint not null
006	any	any	column	public.performance_snapshots.blks_read	bigint not null
006	any	any	column	public.performance_snapshots.cache_hit_ratio	numeric
006	any	any	column	public.performance_snapshots.captured_at	timestamp with time zone not null
006	any	any	column	public.performance_snapshots.connections	bigint not null
006	any	any	column	public.performance_snapshots.database_size_bytes	bigint not null
006	any	any	column	public.performance_snapshots.dead_tuples	bigint not null
006	any	any	column	public.performance_snapshots.deadlocks	bigint not null
006	any	any	column	public.performance_snapshots.details	jsonb not null
006	any	any	column	public.performance_snapshots.id	bigint not null
006	any	any	column	public.performance_snapshots.idle_in_transaction	bigint not null
006	any	any	column	public.performance_snapshots.max_connections	bigint not null
006	any	any	column	public.performance_snapshots.oldest_xid_age	bigint not null
006	any	any	column	public.performance_snapshots.statements_available	boolean not null
006	any	any	column	public.performance_snapshots.statements_unavailable_reason	text
006	any	any	column	public.performance_snapshots.temp_bytes	bigint not null
006	any	any	column	public.performance_snapshots.xact_commit	bigint not null
006	any	any	column	public.performance_snapshots.xact_rollback	bigint not null
006	any	any	column	public.performance_thresholds.description	text not null
006	any	any	column	public.performance_thresholds.name	text not null
006	any	any	column	public.performance_thresholds.unit	text not null
006	any	any	column	public.performance_thresholds.value	numeric not null
006	any	any	constraint	flavatix_ops.job_runs.job_runs_job_check	c validated, definition 127cf77508a4892cd2625b2f6c53a6b7
006	any	any	constraint	flavatix_ops.job_runs.job_runs_outcome_check	c validated, definition 2316a678879221517cd183f2ce846c76
006	any	any	constraint	flavatix_ops.job_runs.job_runs_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
006	any	any	constraint	public.performance_alerts.performance_alerts_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
006	any	any	constraint	public.performance_alerts.performance_alerts_severity_check	c validated, definition d26fc8f6031df916184a4921a694e65b
006	any	any	constraint	public.performance_baselines.performance_baselines_pkey	p validated, definition 390d3e90de752fd1631faa9d94c01a37
006	any	any	constraint	public.performance_snapshot_statements.performance_snapshot_statements_pkey	p validated, definition 653c67c218ba00b8974448f8d5196493
006	any	any	constraint	public.performance_snapshot_statements.performance_snapshot_statements_snapshot_id_fkey	f validated, definition b2b47a00bfb3ae6a3e1e90d5799c9061
006	any	any	constraint	public.performance_snapshots.performance_snapshots_pkey	p validated, definition 4c6419b3704337bbfe50f018842a9ad3
006	any	any	constraint	public.performance_thresholds.performance_thresholds_pkey	p validated, definition c302dc585e3d60f2f29aa138474141ea
006	any	any	function	public.capture_performance_snapshot()	definition 1279c649efce13a7944d2c5847e2a5a3
006	any	any	function	public.check_performance_alerts()	definition 72ec0beb033a0c32a5c878160fb2bb94
006	any	any	function	public.cleanup_monitoring_data(integer)	definition 1d252368d7ae104f9a2ab4aea1ad756d
006	any	any	function	public.flavatix_alert_conditions()	definition 06d91e84880fb09842f5dec590a21b69
006	any	any	function	public.flavatix_partition_status(text,text)	definition a7b44ea9c85a154f0718aed78a7a8241
006	any	any	function	public.flavatix_statement_stats()	definition 9efd53a01be4b27c68545f0379fbc587
006	any	any	function	public.flavatix_statement_stats_unavailable()	definition 1ea1e34502817c3691d0f6896147d677
006	any	any	function	public.get_monitoring_dashboard()	definition 196fef9ea0c5855483659801414fa4a9
006	any	any	grant	function public.capture_performance_snapshot() to anon	none
006	any	any	grant	function public.capture_performance_snapshot() to authenticated	none
006	any	any	grant	function public.check_performance_alerts() to anon	none
006	any	any	grant	function public.check_performance_alerts() to authenticated	none
006	any	any	grant	function public.cleanup_monitoring_data(integer) to anon	none
006	any	any	grant	function public.cleanup_monitoring_data(integer) to authenticated	none
006	any	any	grant	function public.flavatix_alert_conditions() to anon	none
006	any	any	grant	function public.flavatix_alert_conditions() to authenticated	none
006	any	any	grant	function public.flavatix_partition_status(text,text) to anon	none
006	any	any	grant	function public.flavatix_partition_status(text,text) to authenticated	none
006	any	any	grant	function public.flavatix_statement_stats() to anon	none
006	any	any	grant	function public.flavatix_statement_stats() to authenticated	none
006	any	any	grant	function public.flavatix_statement_stats_unavailable() to anon	none
006	any	any	grant	function public.flavatix_statement_stats_unavailable() to authenticated	none
006	any	any	grant	function public.get_monitoring_dashboard() to anon	none
006	any	any	grant	function public.get_monitoring_dashboard() to authenticated	none
006	any	any	grant	relation flavatix_ops.job_runs to anon	none
006	any	any	grant	relation flavatix_ops.job_runs to authenticated	none
006	any	any	grant	relation public.performance_alerts to anon	none
006	any	any	grant	relation public.performance_alerts to authenticated	none
006	any	any	grant	relation public.performance_baselines to anon	none
006	any	any	grant	relation public.performance_baselines to authenticated	none
006	any	any	grant	relation public.performance_snapshot_statements to anon	none
006	any	any	grant	relation public.performance_snapshot_statements to authenticated	none
006	any	any	grant	relation public.performance_snapshots to anon	none
006	any	any	grant	relation public.performance_snapshots to authenticated	none
006	any	any	grant	relation public.performance_thresholds to anon	none
006	any	any	grant	relation public.performance_thresholds to authenticated	none
006	any	any	grant	relation public.v_active_connections to anon	none
006	any	any	grant	relation public.v_active_connections to authenticated	none
006	any	any	grant	relation public.v_baseline_comparison to anon	none
006	any	any	grant	relation public.v_baseline_comparison to authenticated	none
006	any	any	grant	relation public.v_duplicate_indexes to anon	none
006	any	any	grant	relation public.v_duplicate_indexes to authenticated	none
006	any	any	grant	relation public.v_index_usage to anon	none
006	any	any	grant	relation public.v_index_usage to authenticated	none
006	any	any	grant	relation public.v_invalid_indexes to anon	none
006	any	any	grant	relation public.v_invalid_indexes to authenticated	none
006	any	any	grant	relation public.v_lock_conflicts to anon	none
006	any	any	grant	relation public.v_lock_conflicts to authenticated	none
006	any	any	grant	relation public.v_missing_indexes to anon	none
006	any	any	grant	relation public.v_missing_indexes to authenticated	none
006	any	any	grant	relation public.v_partition_status to anon	none
006	any	any	grant	relation public.v_partition_status to authenticated	none
006	any	any	grant	relation public.v_query_performance to anon	none
006	any	any	grant	relation public.v_query_performance to authenticated	none
006	any	any	grant	relation public.v_sequence_usage to anon	none
006	any	any	grant	relation public.v_sequence_usage to authenticated	none
006	any	any	grant	relation public.v_slow_queries to anon	none
006	any	any	grant	relation public.v_slow_queries to authenticated	none
006	any	any	grant	relation public.v_summary_age to anon	none
006	any	any	grant	relation public.v_summary_age to authenticated	none
006	any	any	grant	relation public.v_table_stats to anon	none
006	any	any	grant	relation public.v_table_stats to authenticated	none
006	any	any	grant	relation public.v_wraparound to anon	none
006	any	any	grant	relation public.v_wraparound to authenticated	none
006	any	any	grant	schema flavatix_ops to anon	none
006	any	any	grant	schema flavatix_ops to authenticated	none
006	any	any	index	flavatix_ops.ix_job_runs_job_started	valid, definition 494633f6bb8d4ddaf7543f603afe93de
006	any	any	index	flavatix_ops.job_runs_pkey	valid, definition 4e1e3b7964df96f6d688a2fc856ce2aa
006	any	any	index	public.ix_performance_snapshot_statements_snapshot	valid, definition 194a6b74dae33deb437b622895a1c048
006	any	any	index	public.performance_alerts_pkey	valid, definition 79fd9e02242214c39e114a2d9e4e2924
006	any	any	index	public.performance_baselines_pkey	valid, definition 40125c94c5bb83551c8498050ae2cac7
006	any	any	index	public.performance_snapshot_statements_pkey	valid, definition 4397eb05bd9e5162dfd235a80b2f2dca
006	any	any	index	public.performance_snapshots_pkey	valid, definition 03901a85169ecd338a468a4c0690f25a
006	any	any	index	public.performance_thresholds_pkey	valid, definition 3433ddc4169d615e49a0c15008c26c1f
006	any	any	index	public.ux_performance_alerts_open	valid, definition a4d21c723f8e3baeb58d7fc24e375448
006	any	any	policy	public.performance_alerts.no_api_access	definition bc1a66fd40c3a6cb2ff1c5789cbabca9
006	any	any	policy	public.performance_baselines.no_api_access	definition bc1a66fd40c3a6cb2ff1c5789cbabca9
006	any	any	policy	public.performance_snapshot_statements.no_api_access	definition bc1a66fd40c3a6cb2ff1c5789cbabca9
006	any	any	policy	public.performance_snapshots.no_api_access	definition bc1a66fd40c3a6cb2ff1c5789cbabca9
006	any	any	policy	public.performance_thresholds.no_api_access	definition bc1a66fd40c3a6cb2ff1c5789cbabca9
006	any	any	schema	flavatix_ops	present
006	any	any	table	flavatix_ops.job_runs	table
006	any	any	table	public.performance_alerts	table, row level security
006	any	any	table	public.performance_baselines	table, row level security
006	any	any	table	public.performance_snapshot_statements	table, row level security
006	any	any	table	public.performance_snapshots	table, row level security
006	any	any	table	public.performance_thresholds	table, row level security
006	any	any	view	public.v_active_connections	definition 771b4b4e1858e2aa91faec384628353e
006	any	any	view	public.v_baseline_comparison	definition ae1a1551660de17c0b714a6debfc44c1
006	any	any	view	public.v_duplicate_indexes	definition 90da62d05fb16892ddcb484106d1dc8e
006	any	any	view	public.v_index_usage	definition 43552973aa53b7bc2413957807d013ec
006	any	any	view	public.v_invalid_indexes	definition ea7192c6668551ab74c18727107a476c
006	any	any	view	public.v_lock_conflicts	definition 916c7902520b4206bd0c36e939e8d89f
006	any	any	view	public.v_missing_indexes	definition cc1b05bcd9f5866d9495e1c878b096b8
006	any	any	view	public.v_partition_status	definition 578b043a882f9ea050eaf86d851deb3e
006	any	any	view	public.v_query_performance	definition 635b52a01c455609c0625a38f53ba6f4
006	any	any	view	public.v_sequence_usage	definition 2b2851c5219f2da12fb8d1c96ce918a8
006	any	any	view	public.v_slow_queries	definition fcfe61b9562d1dacf3e1b508fb4a2220
006	any	any	view	public.v_summary_age	definition 9a73d83208476d921800a197bb29d123
006	any	any	view	public.v_table_stats	definition c1721a603219b32084be09fe9a662b6b
006	any	any	view	public.v_wraparound	definition 46ac4198fb74bda73ce997d5488b59b1
006	plain	any	extension	pg_stat_statements	in schema public
006	supabase	any	extension	pg_stat_statements	in schema extensions
007	any	any	column	flavatix_migrations.revision_catalogue.env	text not null
007	any	any	column	flavatix_migrations.revision_catalogue.kind	text not null
007	any	any	column	flavatix_migrations.revision_catalogue.name	text not null
007	any	any	column	flavatix_migrations.revision_catalogue.revision	text not null
007	any	any	column	flavatix_migrations.revision_catalogue.state	text not null
007	any	any	column	flavatix_migrations.revision_catalogue.variant	text not null
007	any	any	column	flavatix_migrations.rollback_revisions."position"	bigint not null
007	any	any	column	flavatix_migrations.rollback_revisions.has_rollback	boolean not null
007	any	any	column	flavatix_migrations.rollback_revisions.name	text not null
007	any	any	column	flavatix_migrations.rollback_revisions.parent	text
007	any	any	column	flavatix_migrations.rollback_revisions.revision	text not null
007	any	any	column	flavatix_migrations.rollback_steps."position"	bigint not null
007	any	any	column	flavatix_migrations.rollback_steps.guard	text
007	any	any	column	flavatix_migrations.rollback_steps.guard_note	text
007	any	any	column	flavatix_migrations.rollback_steps.kind	text not null
007	any	any	column	flavatix_migrations.rollback_steps.revision	text not null
007	any	any	column	flavatix_migrations.rollback_steps.statement	text not null
007	any	any	constraint	flavatix_migrations.revision_catalogue.revision_catalogue_env_check	c validated, definition 70a58851039741a459dc9c280bf001f1
007	any	any	constraint	flavatix_migrations.revision_catalogue.revision_catalogue_pkey	p validated, definition ec5c9177b91c10eeffcdaf8fac529669
007	any	any	constraint	flavatix_migrations.revision_catalogue.revision_catalogue_variant_check	c validated, definition f17bb699adb8d14631d7995b92cae921
007	any	any	constraint	flavatix_migrations.rollback_revisions.rollback_revisions_name_key	u validated, definition 6cd240145af2a9dad30030041a41b7af
007	any	any	constraint	flavatix_migrations.rollback_revisions.rollback_revisions_pkey	p validated, definition a612c1a019435421718e0278c621ac64
007	any	any	constraint	flavatix_migrations.rollback_revisions.rollback_revisions_position_key	u validated, definition cc5f8a00529b9b5169f170504a2323a7
007	any	any	constraint	flavatix_migrations.rollback_steps.rollback_steps_kind_check	c validated, definition 4d0cfba8ac2a7931022a52ef0d2ed98b
007	any	any	constraint	flavatix_migrations.rollback_steps.rollback_steps_pkey	p validated, definition 5f4d44009848105375466913c8c12f09
007	any	any	constraint	flavatix_migrations.rollback_steps.rollback_steps_revision_fkey	f validated, definition a16da493b51e8f3f1628d8396326ff61
007	any	any	function	flavatix_migrations.catalogue_objects()	definition b7838a15487f4203df3a4878afe0ad22
007	any	any	function	flavatix_migrations.run_rollback(text,boolean,boolean,text)	definition 55d1288655b74a1933ff14ed667b552e
007	any	any	function	public.rollback_001_schema_optimization(boolean,boolean)	definition ece61ddcea0b27df2c5b3ed30d6c881e
007	any	any	function	public.rollback_002_trigram_fuzzy_search(boolean,boolean)	definition c421447ab28cdd29a951402d39410ebb
007	any	any	function	public.rollback_003_materialized_views(boolean,boolean)	definition 441f9557c8cb1e4a7f49251035d2123d
007	any	any	function	public.rollback_004_query_optimization(boolean,boolean)	definition 4caf0463421f2fa6957287896dbe5cd4
007	any	any	function	public.rollback_005_partitioning_strategy(boolean,boolean)	definition b837f920ae645b132614c31f21b6227b
007	any	any	function	public.rollback_006_performance_monitoring(boolean,boolean)	definition 8767d3229235dfb672ee28fe8cd29a7e
007	any	any	function	public.rollback_all_migrations(boolean,text)	definition 16f593bf9d5c92704844af31196bbea7
007	any	any	function	public.verify_migrations()	definition 625c69f8ec3d0f12d2d7a1efbe615684
007	any	any	grant	function flavatix_migrations.catalogue_objects() to anon	none
007	any	any	grant	function flavatix_migrations.catalogue_objects() to authenticated	none
007	any	any	grant	function flavatix_migrations.run_rollback(text,boolean,boolean,text) to anon	none
007	any	any	grant	function flavatix_migrations.run_rollback(text,boolean,boolean,text) to authenticated	none
007	any	any	grant	function public.rollback_001_schema_optimization(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_001_schema_optimization(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_002_trigram_fuzzy_search(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_002_trigram_fuzzy_search(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_003_materialized_views(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_003_materialized_views(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_004_query_optimization(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_004_query_optimization(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_005_partitioning_strategy(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_005_partitioning_strategy(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_006_performance_monitoring(boolean,boolean) to anon	none
007	any	any	grant	function public.rollback_006_performance_monitoring(boolean,boolean) to authenticated	none
007	any	any	grant	function public.rollback_all_migrations(boolean,text) to anon	none
007	any	any	grant	function public.rollback_all_migrations(boolean,text) to authenticated	none
007	any	any	grant	function public.verify_migrations() to anon	none
007	any	any	grant	function public.verify_migrations() to authenticated	none
007	any	any	grant	relation flavatix_migrations.revision_catalogue to anon	none
007	any	any	grant	relation flavatix_migrations.revision_catalogue to authenticated	none
007	any	any	grant	relation flavatix_migrations.rollback_revisions to anon	none
007	any	any	grant	relation flavatix_migrations.rollback_revisions to authenticated	none
007	any	any	grant	relation flavatix_migrations.rollback_steps to anon	none
007	any	any	grant	relation flavatix_migrations.rollback_steps to authenticated	none
007	any	any	index	flavatix_migrations.revision_catalogue_pkey	valid, definition a26886d5d38bc02655696989943be1e6
007	any	any	index	flavatix_migrations.rollback_revisions_name_key	valid, definition 4bf01cd52605698c69267d8822e06edb
007	any	any	index	flavatix_migrations.rollback_revisions_pkey	valid, definition 4fb32b009e76c2d92c2b7f2ec71c4bc9
007	any	any	index	flavatix_migrations.rollback_revisions_position_key	valid, definition 34bc020fddd7806665d8c70befcf62a5
007	any	any	index	flavatix_migrations.rollback_steps_pkey	valid, definition cade7fd34dfaac7c681f6534c1525044
007	any	any	table	flavatix_migrations.revision_catalogue	table
007	any	any	table	flavatix_migrations.rollback_revisions	table
007	any	any	table	flavatix_migrations.rollback_steps	table
"""


def literal(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


class StatementSink:
    """A file-like sink: Alembic's offline mode writes each statement with one write()."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def write(self, text: str) -> int:
        self.items.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def revision_name(script: Script) -> str:
    name = Path(script.path).stem
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"revision file {name!r} does not look like 001_some_name")
    return name


def history_beneath(script_dir: ScriptDirectory) -> list[Script]:
    """The revisions from the baseline up to this one's parent, oldest first."""
    parent = down_revision if isinstance(down_revision, str) else None
    if parent is None:
        raise ValueError("revision 007 needs one parent")
    return list(reversed(list(script_dir.walk_revisions("base", parent))))


def rendered_downgrade(script_dir: ScriptDirectory, script: Script) -> list[tuple[str, str]]:
    """(kind, statement) for `alembic downgrade <rev>:<parent> --sql`, in order.

    The same machinery as the command: an offline MigrationContext runs the
    revision's downgrade step, one transaction per revision, with the version
    table where env.py keeps it. BEGIN and COMMIT mark which statements run in
    the revision's transaction and which in an autocommit block.
    """
    sink = StatementSink()
    parent = script.down_revision if isinstance(script.down_revision, str) else "base"
    # The rendering is not a migration being run: keep it out of the log.
    log = logging.getLogger("alembic.runtime.migration")
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        render(script_dir, script.revision, parent, sink)
    finally:
        log.setLevel(level)
    return split_statements(sink.items)


def render(script_dir: ScriptDirectory, rev: str, parent: str, sink: StatementSink) -> None:
    context = MigrationContext.configure(
        dialect_name="postgresql",
        dialect_opts={"paramstyle": "named"},
        opts={
            "as_sql": True,
            "output_buffer": sink,
            "literal_binds": True,
            "transaction_per_migration": True,
            "version_table_schema": SCHEMA,
            "script": script_dir,
            "starting_rev": rev,
            "destination_rev": parent,
            "fn": lambda heads, _ctx: script_dir._downgrade_revs(parent, heads),
        },
    )
    running = op._proxy  # type: ignore[attr-defined]
    try:
        with Operations.context(context):
            context.run_migrations()
    finally:
        running._install_proxy()


def split_statements(items: list[str]) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    in_transaction = False
    for item in items:
        statement = item.rstrip("\n")
        if statement == "BEGIN;":
            in_transaction = True
        elif statement == "COMMIT;":
            in_transaction = False
        elif statement.startswith("-- Running downgrade"):
            continue
        elif statement.startswith(f"UPDATE {VERSION_TABLE} "):
            steps.append(("version", statement))
        else:
            steps.append(("transaction" if in_transaction else "autocommit", statement))
    return steps


def rollback_function(name: str) -> str:
    return f"rollback_{name}"


def catalogue_rows() -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")) for line in CATALOGUE.strip("\n").splitlines() if line]


def revoke(targets: Sequence[str]) -> str:
    return REVOKE_TEMPLATE.format(targets=", ".join(literal(t) for t in targets))


def upgrade() -> None:
    script_dir = op.get_context().script
    if script_dir is None:
        raise RuntimeError("revision 007 renders the revisions beneath it: run it through alembic")
    beneath = history_beneath(script_dir)
    op.execute(CREATE_TABLES)
    own = script_dir.get_revision(revision)
    assert own is not None
    for position, script in enumerate([*beneath, own]):
        has_rollback = script.down_revision is not None and script.revision != revision
        op.execute(
            f"INSERT INTO {SCHEMA}.rollback_revisions "
            "(revision, parent, name, position, has_rollback) VALUES ("
            f"{literal(script.revision)}, {literal(script.down_revision)}, "  # type: ignore[arg-type]
            f"{literal(revision_name(script))}, {position}, {str(has_rollback).lower()})"
        )
        if not has_rollback:
            continue
        values = []
        for step, (kind, statement) in enumerate(rendered_downgrade(script_dir, script), 1):
            guard, note = CALL_GUARDS.get(statement, (None, None))
            values.append(
                f"({literal(script.revision)}, {step}, {literal(kind)}, {literal(statement)}, "
                f"{literal(guard)}, {literal(note)})"
            )
        op.execute(
            f"INSERT INTO {SCHEMA}.rollback_steps "
            "(revision, position, kind, statement, guard, guard_note) VALUES\n" + ",\n".join(values)
        )
    rows = catalogue_rows()
    if rows:
        op.execute(
            f"INSERT INTO {SCHEMA}.revision_catalogue "
            "(revision, env, variant, kind, name, state) VALUES\n"
            + ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
        )
    op.execute(CREATE_CATALOGUE_FUNCTION)
    op.execute(CREATE_RUN_ROLLBACK)
    op.execute(CREATE_ROLLBACK_ALL)
    op.execute(CREATE_VERIFY)
    wrappers = []
    for script in beneath:
        if script.down_revision is None:
            continue
        function = rollback_function(revision_name(script))
        op.execute(WRAPPER.format(function=function, revision=script.revision))
        wrappers.append(f"public.{function}(boolean, boolean)")
    op.execute(
        revoke(
            [
                f"{SCHEMA}.rollback_revisions",
                f"{SCHEMA}.rollback_steps",
                f"{SCHEMA}.revision_catalogue",
                f"FUNCTION {SCHEMA}.catalogue_objects()",
                f"FUNCTION {SCHEMA}.run_rollback(text, boolean, boolean, text)",
                "FUNCTION public.rollback_all_migrations(boolean, text)",
                "FUNCTION public.verify_migrations()",
                *(f"FUNCTION {w}" for w in wrappers),
            ]
        )
    )


def downgrade() -> None:
    script_dir = op.get_context().script
    if script_dir is None:
        raise RuntimeError(
            "revision 007 names its functions from the history: run it through alembic"
        )
    # Each object dropped here is this revision's own; migration_history stays
    # (it belongs to the migration machinery).
    for script in reversed(history_beneath(script_dir)):
        if script.down_revision is None:
            continue
        function = rollback_function(revision_name(script))
        op.execute(
            "-- squawk-ignore ban-drop-function\n"
            f"DROP FUNCTION IF EXISTS public.{function}(boolean, boolean)"
        )
    op.execute(
        f"""
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.verify_migrations();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.rollback_all_migrations(boolean, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS {SCHEMA}.run_rollback(text, boolean, boolean, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS {SCHEMA}.catalogue_objects();
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS {SCHEMA}.revision_catalogue;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS {SCHEMA}.rollback_steps;
-- squawk-ignore ban-drop-table
DROP TABLE IF EXISTS {SCHEMA}.rollback_revisions;
"""
    )
