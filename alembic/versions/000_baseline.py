"""Baseline: the Flavatix schema before the optimization plan.

Revision ID: 000
Revises:
Create Date: 2026-11-29

Existing production databases already have this schema: they adopt the
project with `alembic stamp 000`, never by running this revision.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while a revision runs.
from collections.abc import Sequence

from alembic import op

revision: str = "000"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_TABLES = """
CREATE OR REPLACE FUNCTION public.update_updated_at_column()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- The baseline as production databases have it, integer columns included
-- (they hold 1..5 and small counts).
CREATE TABLE public.flavor_descriptors (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    source_type text NOT NULL,
    source_id uuid NOT NULL,
    descriptor_text text NOT NULL,
    descriptor_type text NOT NULL,
    category text,
    subcategory text,
    confidence_score numeric(3,2),
    -- squawk-ignore prefer-bigint-over-int
    intensity integer,
    item_name text,
    item_category text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT flavor_descriptors_pkey PRIMARY KEY (id),
    CONSTRAINT flavor_descriptors_source_type_check
        CHECK (source_type IN ('quick_tasting', 'quick_review', 'prose_review')),
    CONSTRAINT flavor_descriptors_descriptor_type_check
        CHECK (descriptor_type IN ('aroma', 'flavor', 'texture', 'metaphor')),
    CONSTRAINT flavor_descriptors_confidence_score_check
        CHECK (confidence_score >= 0 AND confidence_score <= 1),
    CONSTRAINT flavor_descriptors_intensity_check
        CHECK (intensity >= 1 AND intensity <= 5),
    CONSTRAINT flavor_descriptors_source_descriptor_key
        UNIQUE (source_type, source_id, descriptor_text, descriptor_type)
);

CREATE INDEX idx_flavor_descriptors_user_id ON public.flavor_descriptors (user_id);
CREATE INDEX idx_flavor_descriptors_source ON public.flavor_descriptors (source_type, source_id);
CREATE INDEX idx_flavor_descriptors_type ON public.flavor_descriptors (descriptor_type);
CREATE INDEX idx_flavor_descriptors_category ON public.flavor_descriptors (category);
CREATE INDEX idx_flavor_descriptors_item ON public.flavor_descriptors (item_name, item_category)
    WHERE item_name IS NOT NULL;
CREATE INDEX idx_flavor_descriptors_created_at ON public.flavor_descriptors (created_at DESC);
CREATE INDEX idx_flavor_descriptors_user_type_created
    ON public.flavor_descriptors (user_id, descriptor_type, created_at DESC);

CREATE TRIGGER update_flavor_descriptors_updated_at
    BEFORE UPDATE ON public.flavor_descriptors
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();

CREATE TABLE public.flavor_wheels (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid,
    wheel_type text NOT NULL,
    scope_type text NOT NULL,
    scope_filter jsonb DEFAULT '{}'::jsonb,
    wheel_data jsonb NOT NULL,
    -- squawk-ignore prefer-bigint-over-int
    total_descriptors integer DEFAULT 0,
    -- squawk-ignore prefer-bigint-over-int
    unique_descriptors integer DEFAULT 0,
    -- squawk-ignore prefer-bigint-over-int
    data_sources_count integer DEFAULT 0,
    generated_at timestamptz DEFAULT now(),
    expires_at timestamptz,
    -- squawk-ignore prefer-bigint-over-int
    version integer DEFAULT 1,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT flavor_wheels_pkey PRIMARY KEY (id),
    CONSTRAINT flavor_wheels_wheel_type_check
        CHECK (wheel_type IN ('aroma', 'flavor', 'combined', 'metaphor')),
    CONSTRAINT flavor_wheels_scope_type_check
        CHECK (scope_type IN ('personal', 'universal', 'item', 'category', 'tasting'))
);

CREATE INDEX idx_flavor_wheels_user_id ON public.flavor_wheels (user_id);
CREATE INDEX idx_flavor_wheels_scope ON public.flavor_wheels (scope_type, wheel_type);
CREATE INDEX idx_flavor_wheels_generated_at ON public.flavor_wheels (generated_at DESC);
CREATE INDEX idx_flavor_wheels_scope_filter ON public.flavor_wheels USING gin (scope_filter);

CREATE TRIGGER update_flavor_wheels_updated_at
    BEFORE UPDATE ON public.flavor_wheels
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
"""

# Only where Supabase's auth schema exists: the foreign keys to auth.users and
# row level security (a user reads and writes only their own rows; universal
# wheels are readable by everyone).
SUPABASE_AUTH = """
DO $$
BEGIN
    IF to_regclass('auth.users') IS NULL OR to_regprocedure('auth.uid()') IS NULL THEN
        RAISE NOTICE 'no Supabase auth schema: skipping foreign keys and row level security';
        RETURN;
    END IF;

    ALTER TABLE public.flavor_descriptors
        ADD CONSTRAINT flavor_descriptors_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE;
    ALTER TABLE public.flavor_wheels
        ADD CONSTRAINT flavor_wheels_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE;

    ALTER TABLE public.flavor_descriptors ENABLE ROW LEVEL SECURITY;
    CREATE POLICY flavor_descriptors_select_own ON public.flavor_descriptors
        FOR SELECT USING (user_id = auth.uid());
    CREATE POLICY flavor_descriptors_insert_own ON public.flavor_descriptors
        FOR INSERT WITH CHECK (user_id = auth.uid());
    CREATE POLICY flavor_descriptors_update_own ON public.flavor_descriptors
        FOR UPDATE USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
    CREATE POLICY flavor_descriptors_delete_own ON public.flavor_descriptors
        FOR DELETE USING (user_id = auth.uid());

    ALTER TABLE public.flavor_wheels ENABLE ROW LEVEL SECURITY;
    CREATE POLICY flavor_wheels_select_own_or_universal ON public.flavor_wheels
        FOR SELECT USING (user_id = auth.uid() OR (user_id IS NULL AND scope_type = 'universal'));
    CREATE POLICY flavor_wheels_insert_own ON public.flavor_wheels
        FOR INSERT WITH CHECK (user_id = auth.uid());
    CREATE POLICY flavor_wheels_update_own ON public.flavor_wheels
        FOR UPDATE USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
    CREATE POLICY flavor_wheels_delete_own ON public.flavor_wheels
        FOR DELETE USING (user_id = auth.uid());
END;
$$;
"""

# Going below the baseline would delete the application's data: refuse while
# any descriptor exists.
REFUSE_IF_POPULATED = """
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM (SELECT 1 FROM public.flavor_descriptors LIMIT 1) AS any_row;
    IF n > 0 THEN
        RAISE EXCEPTION 'refusing to downgrade below the baseline: flavor_descriptors holds data'
            USING ERRCODE = '55000',
                  HINT = 'Dropping the baseline would delete every descriptor. '
                         'Take a pg_dump and drop the tables by hand if that is really meant.';
    END IF;
END;
$$;
"""

# Reached only after REFUSE_IF_POPULATED found no descriptor.
DROP_TABLES = """
-- squawk-ignore ban-drop-table
DROP TABLE public.flavor_wheels;
-- squawk-ignore ban-drop-table
DROP TABLE public.flavor_descriptors;
DO $$
BEGIN
    -- Other tables may share this common trigger function; keep it for them.
    DROP FUNCTION IF EXISTS public.update_updated_at_column();
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'keeping update_updated_at_column(): other triggers use it';
END;
$$;
"""


def upgrade() -> None:
    """Create the baseline tables, indexes, triggers and (on Supabase) security."""
    op.execute(CREATE_TABLES)
    op.execute(SUPABASE_AUTH)


def downgrade() -> None:
    """Drop the baseline schema, refusing while descriptors exist."""
    op.execute(REFUSE_IF_POPULATED)
    op.execute(DROP_TABLES)
