"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
# A revision is a frozen snapshot: keep every SQL text it runs inside this file
# and never import flavatix_db (a later edit there would change an applied
# revision). The previous release's code keeps serving users while this runs:
# add before you remove, build indexes CONCURRENTLY, add constraints NOT VALID
# and VALIDATE them in a later transaction, backfill in committed batches.
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    """${message}."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Undo ${message}."""
    ${downgrades if downgrades else "pass"}
