"""Maintenance jobs: where `flavatix-db maintain` keeps each job's runs.

Revision ID: 008
Revises: 006
Create Date: 2026-11-30

The plan's scheduled jobs (snapshot, alerts, refresh, partitions, cleanup) run
from `flavatix-db maintain` or from pg_cron (`flavatix-db schedule install`).
Each run of `maintain` is one row in flavatix_ops.job_runs, so `flavatix-db
status` can show the last run of every job; pg_cron keeps its own record in
cron.job_run_details. The schema is not exposed by Supabase's API and only the
owner and service_role may use it.
"""

# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db. The previous release's code keeps serving users
# while this runs: nothing it reads changes.
from collections.abc import Sequence

from alembic import op

revision: str = "008"
down_revision: str | Sequence[str] | None = "006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_JOB_RUNS = """
CREATE SCHEMA IF NOT EXISTS flavatix_ops;
COMMENT ON SCHEMA flavatix_ops IS 'flavatix-db 008: runs of the maintenance jobs';
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
    """Create flavatix_ops.job_runs."""
    op.execute(CREATE_JOB_RUNS)


def downgrade() -> None:
    """Drop flavatix_ops and its record of job runs."""
    op.execute(DROP_JOB_RUNS)
