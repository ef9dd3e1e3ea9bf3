"""Where Alembic keeps the migration state: a schema of its own, out of the API's reach.

On Supabase every table in public is reachable over HTTP with the anon key, and
default privileges hand each new one to anon and authenticated, so a version
table there could be rewritten by anyone, and the next deploy would skip or
repeat revisions. alembic/env.py runs PREPARE (under the migration lock, before
Alembic looks at the table) on every run, and renders it into --sql output.
"""

from __future__ import annotations

SCHEMA = "flavatix_migrations"
TABLE = "alembic_version"
LEGACY_SCHEMA = "public"

# Re-runnable. The REVOKEs repeat on every run so that a grant made by hand
# to an API role does not last. A version table that an earlier release left
# in public is moved, stamp included; if both exist (an old checkout ran after
# the move), the schema's own table wins and the other is reported.
PREPARE: tuple[str, ...] = (
    # Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database
    # even when the schema is there, which a migrating role may lack.
    f"""DO $$
BEGIN
    IF to_regnamespace('{SCHEMA}') IS NULL THEN
        CREATE SCHEMA {SCHEMA};
    END IF;
END;
$$""",
    f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
    f"""DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON SCHEMA {SCHEMA} FROM %I', r);
        END IF;
    END LOOP;
    IF to_regclass('{LEGACY_SCHEMA}.{TABLE}') IS NULL THEN
        RETURN;
    END IF;
    IF to_regclass('{SCHEMA}.{TABLE}') IS NOT NULL THEN
        RAISE WARNING '{LEGACY_SCHEMA}.{TABLE} is not used: the migration state is in '
                      '{SCHEMA}.{TABLE}; drop {LEGACY_SCHEMA}.{TABLE} once you have checked it';
        RETURN;
    END IF;
    ALTER TABLE {LEGACY_SCHEMA}.{TABLE} SET SCHEMA {SCHEMA};
    -- The grants that public's default privileges gave it travel with it.
    REVOKE ALL ON {SCHEMA}.{TABLE} FROM PUBLIC;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON {SCHEMA}.{TABLE} FROM %I', r);
        END IF;
    END LOOP;
    RAISE NOTICE 'moved {LEGACY_SCHEMA}.{TABLE} to {SCHEMA}.{TABLE}';
END;
$$""",
)

# Which of the two places hold a version table: (legacy in public, ours).
LOCATE = (
    f"SELECT to_regclass('{LEGACY_SCHEMA}.{TABLE}') IS NOT NULL, "
    f"to_regclass('{SCHEMA}.{TABLE}') IS NOT NULL"
)
