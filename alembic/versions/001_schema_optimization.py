"""Schema optimization: normalized forms, widened value lists, indexes.

Revision ID: 001
Revises: 000
Create Date: 2026-11-29

Online-safe on a large table that is being written to: every lock it takes on
flavor_descriptors is brief (lock_timeout, retried by env.py); no table rewrite;
normalized_form is a plain column kept by a trigger and backfilled in committed
batches; constraints are added NOT VALID and validated later; indexes are built
CONCURRENTLY. Every step is re-runnable, so a retried or interrupted upgrade
resumes where it stopped.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs: it does not write normalized_form, so the trigger fills it.
from collections.abc import Sequence

from alembic import op
from alembic.util import CommandError
from sqlalchemy.exc import IntegrityError

revision: str = "001"
down_revision: str | Sequence[str] | None = "000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# unaccent lives in schema "extensions" where that exists (Supabase), else in
# public. The comment marks it as ours, so the downgrade drops only what this
# revision created.
CREATE_UNACCENT = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'unaccent') THEN
        EXECUTE format('CREATE EXTENSION unaccent SCHEMA %I',
                       CASE WHEN to_regnamespace('extensions') IS NULL
                            THEN 'public' ELSE 'extensions' END);
        COMMENT ON EXTENSION unaccent IS 'text search dictionary that removes accents '
                                         '(created by flavatix-db revision 001)';
    END IF;
END;
$$;
"""

# The body is bound at creation time (SQL-standard body), so it keeps finding
# unaccent whatever the caller's search_path is.
CREATE_NORMALIZE = r"""
DO $do$
DECLARE
    ext_schema name := (SELECT n.nspname FROM pg_extension e
                        JOIN pg_namespace n ON n.oid = e.extnamespace
                        WHERE e.extname = 'unaccent');
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION public.normalize_descriptor_text(input_text text)
        RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        SET search_path = ''
        RETURN btrim(regexp_replace(lower(%1$I.unaccent(%2$L::regdictionary, input_text)),
                                    '[[:space:]\u00a0]+', ' ', 'g'))
    $fn$, ext_schema, format('%I.unaccent', ext_schema));
END;
$do$;

COMMENT ON FUNCTION public.normalize_descriptor_text(text) IS
    'Unaccented, lower-cased, trimmed, inner whitespace collapsed; NULL in, NULL out.';
"""

CREATE_DESCRIPTOR_EXISTS = """
CREATE OR REPLACE FUNCTION public.descriptor_exists(
    p_user_id uuid, p_descriptor_text text, p_descriptor_type text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'descriptor_exists: p_user_id must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF p_descriptor_text IS NULL OR btrim(p_descriptor_text) = '' THEN
        RAISE EXCEPTION 'descriptor_exists: p_descriptor_text must be a non-empty text'
            USING ERRCODE = '22023';
    END IF;
    IF p_descriptor_type IS NULL OR p_descriptor_type NOT IN
            ('aroma', 'flavor', 'texture', 'defect', 'metaphor', 'mouthfeel') THEN
        RAISE EXCEPTION 'descriptor_exists: p_descriptor_type must be one of aroma, flavor, '
                        'texture, defect, metaphor, mouthfeel, not %',
                        coalesce(p_descriptor_type, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN EXISTS (
        SELECT 1 FROM public.flavor_descriptors
        WHERE user_id = p_user_id
          AND normalized_form = public.normalize_descriptor_text(p_descriptor_text)
          AND descriptor_type = p_descriptor_type);
END;
$$;
"""

# The trigger owns normalized_form: whatever a writer sends (old code sends
# nothing, a stale column may hold anything), the stored value is the
# normalized text. Its name sorts last so it sees the final descriptor_text.
# During the backfill (flavatix.backfill = on) it leaves updated_at alone.
CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION public.flavor_descriptors_set_normalized_form()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.normalized_form := public.normalize_descriptor_text(NEW.descriptor_text);
    IF TG_OP = 'UPDATE' AND current_setting('flavatix.backfill', true) = 'on' THEN
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS zz_flavor_descriptors_normalized_form ON public.flavor_descriptors;
CREATE TRIGGER zz_flavor_descriptors_normalized_form
    BEFORE INSERT OR UPDATE OF descriptor_text, normalized_form
    ON public.flavor_descriptors
    FOR EACH ROW EXECUTE FUNCTION public.flavor_descriptors_set_normalized_form();
"""

# The baseline's row level security policies (Supabase only) call auth.uid()
# once per row. As a scalar subquery it runs once per statement (an InitPlan),
# which is Supabase's advice. ALTER POLICY changes only the catalog, under a
# brief lock; the downgrade puts back the baseline's text.
# policy -> (table, USING, WITH CHECK), {uid} standing for the caller's id.
POLICIES: dict[str, tuple[str, str | None, str | None]] = {
    "flavor_descriptors_select_own": ("flavor_descriptors", "user_id = {uid}", None),
    "flavor_descriptors_insert_own": ("flavor_descriptors", None, "user_id = {uid}"),
    "flavor_descriptors_update_own": ("flavor_descriptors", "user_id = {uid}", "user_id = {uid}"),
    "flavor_descriptors_delete_own": ("flavor_descriptors", "user_id = {uid}", None),
    "flavor_wheels_select_own_or_universal": (
        "flavor_wheels",
        "user_id = {uid} OR (user_id IS NULL AND scope_type = 'universal')",
        None,
    ),
    "flavor_wheels_insert_own": ("flavor_wheels", None, "user_id = {uid}"),
    "flavor_wheels_update_own": ("flavor_wheels", "user_id = {uid}", "user_id = {uid}"),
    "flavor_wheels_delete_own": ("flavor_wheels", "user_id = {uid}", None),
}


# Supabase's default privileges give the API roles every privilege on a new
# table in public. Row level security filters SELECT, INSERT, UPDATE and DELETE,
# but not TRUNCATE: one TRUNCATE as anon emptied every user's rows. TRIGGER and
# REFERENCES serve no request either. The downgrade gives back what 000 had.
API_ROLE_EXTRAS = "TRUNCATE, TRIGGER, REFERENCES"


def api_role_extras(action: str) -> str:
    """GRANT or REVOKE the privileges no request needs, where the API roles exist."""
    direction = "TO" if action == "GRANT" else "FROM"
    return f"""
DO $$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_roles
        WHERE rolname IN ('anon', 'authenticated')) = 2 THEN
        {action} {API_ROLE_EXTRAS} ON public.flavor_descriptors, public.flavor_wheels
            {direction} anon, authenticated;
    END IF;
END;
$$;
"""


def alter_policies(uid: str) -> str:
    """One DO block setting each policy that exists to its text with ``uid``."""
    steps = []
    for name, (table, using, check) in POLICIES.items():
        clauses = "".join(
            f" {keyword} ({expression.format(uid=uid)})"
            for keyword, expression in (("USING", using), ("WITH CHECK", check))
            if expression
        )
        steps.append(
            f"""
    IF EXISTS (SELECT FROM pg_catalog.pg_policy
               WHERE polrelid = 'public.{table}'::regclass AND polname = '{name}') THEN
        ALTER POLICY {name} ON public.{table}{clauses};
    END IF;"""
        )
    return f"""
DO $$
BEGIN
    IF to_regprocedure('auth.uid()') IS NULL THEN
        RETURN;
    END IF;{"".join(steps)}
END;
$$;
"""


# Columns: adding a nullable column, or one with a constant default, changes
# only the catalog (no rewrite). Production databases may already carry them.
# Constraints: the widened lists are added NOT VALID under new names, and the
# old ones dropped, in one short transaction; validation comes later. Columns
# that must become NOT NULL get a NOT VALID check first, for the same reason.
ALTER_TABLE = """
ALTER TABLE public.flavor_descriptors
    ADD COLUMN IF NOT EXISTS normalized_form text,
    ADD COLUMN IF NOT EXISTS ai_extracted boolean DEFAULT false,
    ADD COLUMN IF NOT EXISTS extraction_model text,
    -- Setting the same default again is harmless, so a re-run is safe.
    -- squawk-ignore prefer-robust-stmts
    ALTER COLUMN ai_extracted SET DEFAULT false;

DO $$
DECLARE
    col text;
BEGIN
    IF NOT EXISTS (
            SELECT FROM pg_constraint
            WHERE conrelid = 'public.flavor_descriptors'::regclass
              AND conname = 'ck_flavor_descriptors_descriptor_type') THEN
        ALTER TABLE public.flavor_descriptors
            ADD CONSTRAINT ck_flavor_descriptors_descriptor_type CHECK (descriptor_type IN
                ('aroma', 'flavor', 'texture', 'defect', 'metaphor', 'mouthfeel')) NOT VALID,
            ADD CONSTRAINT ck_flavor_descriptors_source_type CHECK (source_type IN
                ('quick_tasting', 'quick_review', 'prose_review', 'study_session')) NOT VALID,
            DROP CONSTRAINT IF EXISTS flavor_descriptors_descriptor_type_check,
            DROP CONSTRAINT IF EXISTS flavor_descriptors_source_type_check;
    END IF;

    FOREACH col IN ARRAY ARRAY['user_id', 'source_type', 'source_id', 'descriptor_text',
                               'descriptor_type', 'normalized_form', 'ai_extracted'] LOOP
        IF NOT (SELECT attnotnull FROM pg_attribute
                WHERE attrelid = 'public.flavor_descriptors'::regclass AND attname = col)
           AND NOT EXISTS (SELECT FROM pg_constraint
                           WHERE conrelid = 'public.flavor_descriptors'::regclass
                             AND conname = format('ck_flavor_descriptors_%s_not_null', col)) THEN
            EXECUTE format('ALTER TABLE public.flavor_descriptors ADD CONSTRAINT %I '
                           'CHECK (%I IS NOT NULL) NOT VALID',
                           format('ck_flavor_descriptors_%s_not_null', col), col);
        END IF;
    END LOOP;
END;
$$;
"""

# Committed batches of 2,000 heap blocks (about 100,000 rows) by TID range:
# sequential reads, short row locks. Rows written after the trigger went live
# are already right; this fixes the ones that existed before it.
CREATE_BACKFILL = """
CREATE OR REPLACE PROCEDURE public.flavatix_001_backfill(p_batch_blocks integer DEFAULT 2000)
LANGUAGE plpgsql
AS $$
DECLARE
    last_block bigint := pg_relation_size('public.flavor_descriptors')
                         / current_setting('block_size')::bigint;
    first_block bigint := 0;
BEGIN
    WHILE first_block <= last_block LOOP
        PERFORM pg_catalog.set_config('flavatix.backfill', 'on', true);
        UPDATE public.flavor_descriptors
        SET normalized_form = public.normalize_descriptor_text(descriptor_text),
            ai_extracted = coalesce(ai_extracted, false)
        WHERE ctid >= format('(%s,0)', first_block)::tid
          AND ctid < format('(%s,0)', first_block + p_batch_blocks)::tid
          AND (normalized_form IS DISTINCT FROM public.normalize_descriptor_text(descriptor_text)
               OR ai_extracted IS NULL);
        COMMIT;
        first_block := first_block + p_batch_blocks;
    END LOOP;
END;
$$;
"""

VALIDATE_CONSTRAINTS = """
DO $$
DECLARE
    con name;
BEGIN
    FOR con IN SELECT conname FROM pg_constraint
               WHERE conrelid = 'public.flavor_descriptors'::regclass
                 AND contype = 'c' AND NOT convalidated
                 AND conname LIKE 'ck\\_flavor\\_descriptors\\_%'
               ORDER BY conname LOOP
        EXECUTE format('ALTER TABLE public.flavor_descriptors VALIDATE CONSTRAINT %I', con);
    END LOOP;
END;
$$;
"""

# With a validated IS NOT NULL check in place, SET NOT NULL skips the table scan.
SET_NOT_NULL = """
DO $$
DECLARE
    con name;
    col text;
BEGIN
    FOR con, col IN SELECT conname, substring(conname FROM '^ck_flavor_descriptors_(.*)_not_null$')
                    FROM pg_constraint
                    WHERE conrelid = 'public.flavor_descriptors'::regclass
                      AND conname LIKE 'ck\\_flavor\\_descriptors\\_%\\_not\\_null'
                      AND convalidated LOOP
        EXECUTE format('ALTER TABLE public.flavor_descriptors ALTER COLUMN %I SET NOT NULL', col);
        EXECUTE format('ALTER TABLE public.flavor_descriptors DROP CONSTRAINT %I', con);
    END LOOP;
END;
$$;
"""

# name -> (table, definition). Names carry the ix_/uq_ prefix so they can never
# collide with the baseline's idx_ names.
INDEXES: dict[str, tuple[str, str]] = {
    "ix_flavor_descriptors_user_normalized_type": (
        "flavor_descriptors",
        "(user_id, normalized_form, descriptor_type)",
    ),
    "ix_flavor_descriptors_category_subcategory": (
        "flavor_descriptors",
        "(category, subcategory)",
    ),
    "ix_flavor_descriptors_ai_extracted": (
        "flavor_descriptors",
        "(user_id, created_at DESC) WHERE ai_extracted OR extraction_model IS NOT NULL",
    ),
    "uq_flavor_descriptors_source_normalized_type": (
        "flavor_descriptors",
        "(source_type, source_id, normalized_form, descriptor_type)",
    ),
    "ix_flavor_wheels_user_wheel_scope": ("flavor_wheels", "(user_id, wheel_type, scope_type)"),
    "ix_flavor_wheels_expires_at": ("flavor_wheels", "(expires_at) WHERE expires_at IS NOT NULL"),
}
UNIQUE_INDEXES = {"uq_flavor_descriptors_source_normalized_type"}
DUPLICATE_SPELLINGS_HELP = (
    "some sources hold one descriptor twice in different spellings. Find them with: "
    "SELECT source_type, source_id, descriptor_type, normalized_form, array_agg(descriptor_text) "
    "FROM public.flavor_descriptors GROUP BY 1, 2, 3, 4 HAVING count(*) > 1; "
    "then merge or delete the extra rows."
)

REFUSE_NARROWING = """
DO $$
DECLARE
    n_types bigint;
    n_sources bigint;
BEGIN
    SELECT count(*) INTO n_types FROM public.flavor_descriptors
    WHERE descriptor_type IN ('defect', 'mouthfeel');
    SELECT count(*) INTO n_sources FROM public.flavor_descriptors
    WHERE source_type = 'study_session';
    IF n_types + n_sources > 0 THEN
        RAISE EXCEPTION 'cannot downgrade 001: % rows have descriptor_type defect or mouthfeel '
                        'and % rows have source_type study_session, which revision 000 does '
                        'not allow', n_types, n_sources
            USING ERRCODE = '55000',
                  HINT = 'Nothing was changed. Re-type or move those rows first (for example '
                         'UPDATE public.flavor_descriptors SET descriptor_type = ''texture'' '
                         'WHERE descriptor_type = ''mouthfeel''), or stay on 001.';
    END IF;
END;
$$;
"""

# Taken first so no row with a widened value can arrive between the check and
# the narrowed constraints; both checks are index lookups, so it is held briefly.
LOCK_TABLE = "LOCK TABLE public.flavor_descriptors IN ACCESS EXCLUSIVE MODE"

# ai_extracted and extraction_model are dropped only while they hold nothing;
# production databases that had them before 001 keep them and their data. The
# partial AI index answers the question without a table scan.
REVERT_TABLE = """
DROP TRIGGER IF EXISTS zz_flavor_descriptors_normalized_form ON public.flavor_descriptors;
-- The functions below are this revision's own; callers of 000 never had them.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.flavor_descriptors_set_normalized_form();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.descriptor_exists(uuid, text, text);
-- squawk-ignore ban-drop-function
DROP PROCEDURE IF EXISTS public.flavatix_001_backfill(integer);

DO $$
DECLARE
    con name;
    has_ai boolean;
    has_model boolean;
    holds_data boolean := false;
BEGIN
    FOR con IN SELECT conname FROM pg_constraint
               WHERE conrelid = 'public.flavor_descriptors'::regclass
                 AND conname LIKE 'ck\\_flavor\\_descriptors\\_%' LOOP
        EXECUTE format('ALTER TABLE public.flavor_descriptors DROP CONSTRAINT %I', con);
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_constraint
                   WHERE conrelid = 'public.flavor_descriptors'::regclass
                     AND conname = 'flavor_descriptors_descriptor_type_check') THEN
        ALTER TABLE public.flavor_descriptors
            ADD CONSTRAINT flavor_descriptors_descriptor_type_check
                CHECK (descriptor_type IN ('aroma', 'flavor', 'texture', 'metaphor')) NOT VALID,
            ADD CONSTRAINT flavor_descriptors_source_type_check
                CHECK (source_type IN ('quick_tasting', 'quick_review', 'prose_review')) NOT VALID;
    END IF;

    -- An earlier, interrupted run may have dropped them already: the test for
    -- data names only the columns that are still there.
    has_ai := EXISTS (SELECT FROM pg_attribute
                      WHERE attrelid = 'public.flavor_descriptors'::regclass
                        AND attname = 'ai_extracted' AND NOT attisdropped);
    has_model := EXISTS (SELECT FROM pg_attribute
                         WHERE attrelid = 'public.flavor_descriptors'::regclass
                           AND attname = 'extraction_model' AND NOT attisdropped);
    IF has_ai OR has_model THEN
        EXECUTE format('SELECT EXISTS (SELECT FROM public.flavor_descriptors WHERE %s)',
                       concat_ws(' OR ', CASE WHEN has_ai THEN 'ai_extracted' END,
                                 CASE WHEN has_model THEN 'extraction_model IS NOT NULL' END))
            INTO holds_data;
    END IF;
    IF holds_data THEN
        RAISE NOTICE 'keeping ai_extracted and extraction_model: rows hold data in them';
        IF has_ai THEN
            ALTER TABLE public.flavor_descriptors ALTER COLUMN ai_extracted DROP NOT NULL;
        END IF;
    ELSE
        ALTER TABLE public.flavor_descriptors
            DROP COLUMN IF EXISTS ai_extracted,
            DROP COLUMN IF EXISTS extraction_model;
    END IF;
END;
$$;

-- normalized_form holds only data derived from descriptor_text.
-- squawk-ignore ban-drop-column
ALTER TABLE public.flavor_descriptors DROP COLUMN IF EXISTS normalized_form;
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.normalize_descriptor_text(text);
"""

# Validating an already valid constraint does nothing, so both are safe to repeat.
VALIDATE_BASELINE_CHECKS = """
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.flavor_descriptors VALIDATE CONSTRAINT flavor_descriptors_descriptor_type_check;
-- squawk-ignore prefer-robust-stmts
ALTER TABLE public.flavor_descriptors VALIDATE CONSTRAINT flavor_descriptors_source_type_check;
"""

DROP_UNACCENT_IF_OURS = """
DO $$
BEGIN
    IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'unaccent'), 'pg_extension')
            LIKE '%flavatix-db revision 001%' THEN
        DROP EXTENSION unaccent;
    END IF;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'keeping extension unaccent: other objects use it';
END;
$$;
"""


def execute_without_timeout(sql: str) -> None:
    """Run a long but non-blocking statement (index build, validation, backfill)."""
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
    try:
        execute_without_timeout(
            f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {name} ON public.{table} {definition}"
        )
    except IntegrityError as exc:
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}")
        raise CommandError(
            f"cannot build {name}: {DUPLICATE_SPELLINGS_HELP} Nothing is lost; "
            "fix those rows and run the upgrade again."
        ) from exc


def upgrade() -> None:
    """Add normalized forms, widen value lists, add NOT NULLs and indexes, online."""
    ctx = op.get_context()
    op.execute(CREATE_UNACCENT)
    op.execute(CREATE_NORMALIZE)
    op.execute(CREATE_DESCRIPTOR_EXISTS)
    op.execute(ALTER_TABLE)
    op.execute(CREATE_TRIGGER)
    op.execute(alter_policies("(SELECT auth.uid())"))
    op.execute(api_role_extras("REVOKE"))
    op.execute(CREATE_BACKFILL)
    with ctx.autocommit_block():
        execute_without_timeout("CALL public.flavatix_001_backfill()")
        execute_without_timeout(VALIDATE_CONSTRAINTS)
    op.execute(SET_NOT_NULL)
    op.execute(
        "-- The backfill procedure was only scaffolding for this revision.\n"
        "-- squawk-ignore ban-drop-function\n"
        "DROP PROCEDURE IF EXISTS public.flavatix_001_backfill(integer)"
    )
    with ctx.autocommit_block():
        for name, (table, definition) in INDEXES.items():
            create_index_concurrently(name, table, definition, unique=name in UNIQUE_INDEXES)
        execute_without_timeout("ANALYZE public.flavor_descriptors")


def downgrade() -> None:
    """Return to the baseline schema; refuses while rows use the widened values."""
    ctx = op.get_context()
    op.execute(LOCK_TABLE)
    op.execute(REFUSE_NARROWING)
    op.execute(alter_policies("auth.uid()"))
    op.execute(api_role_extras("GRANT"))
    op.execute(REVERT_TABLE)
    with ctx.autocommit_block():
        execute_without_timeout(VALIDATE_BASELINE_CHECKS)
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS public.{name}")
    op.execute(DROP_UNACCENT_IF_OURS)
