"""SQLAlchemy models of flavor_descriptors and flavor_wheels as they stand at head.

Names of objects that the baseline (revision 000) made are spelled out, because
existing databases already carry them; objects added later follow the naming
convention. Objects that revisions make with raw SQL and that SQLAlchemy cannot
describe (functions, triggers, materialized views, trigram indexes, tables that
only SQL functions use) are listed in ``SQL_MANAGED`` and skipped on purpose by
``include_object``, so `alembic check` compares everything else.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.naming import conv

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DESCRIPTOR_TYPES = ("aroma", "flavor", "texture", "defect", "metaphor", "mouthfeel")
SOURCE_TYPES = ("quick_tasting", "quick_review", "prose_review", "study_session")
WHEEL_TYPES = ("aroma", "flavor", "combined", "metaphor")
SCOPE_TYPES = ("personal", "universal", "item", "category", "tasting")


def _in_list(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


TIMESTAMPTZ = DateTime(timezone=True)


class FlavorDescriptor(Base):
    """One descriptor a user wrote in a tasting or review."""

    __tablename__ = "flavor_descriptors"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    source_type: Mapped[str] = mapped_column(Text)
    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    descriptor_text: Mapped[str] = mapped_column(Text)
    descriptor_type: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    subcategory: Mapped[str | None] = mapped_column(Text)
    confidence_score: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    intensity: Mapped[int | None] = mapped_column(Integer)
    item_name: Mapped[str | None] = mapped_column(Text)
    item_category: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ, server_default=text("now()"))
    updated_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ, server_default=text("now()"))
    # Kept equal to normalize_descriptor_text(descriptor_text) by a trigger (revision 001).
    normalized_form: Mapped[str] = mapped_column(Text)
    ai_extracted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    extraction_model: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint(
            "source_type",
            "source_id",
            "descriptor_text",
            "descriptor_type",
            name="flavor_descriptors_source_descriptor_key",
        ),
        CheckConstraint(_in_list("source_type", SOURCE_TYPES), name="source_type"),
        CheckConstraint(_in_list("descriptor_type", DESCRIPTOR_TYPES), name="descriptor_type"),
        CheckConstraint(
            "confidence_score >= 0 AND confidence_score <= 1",
            name=conv("flavor_descriptors_confidence_score_check"),
        ),
        CheckConstraint(
            "intensity >= 1 AND intensity <= 5", name=conv("flavor_descriptors_intensity_check")
        ),
        # Baseline indexes (revision 000).
        Index("idx_flavor_descriptors_user_id", "user_id"),
        Index("idx_flavor_descriptors_source", "source_type", "source_id"),
        Index("idx_flavor_descriptors_type", "descriptor_type"),
        Index("idx_flavor_descriptors_category", "category"),
        Index(
            "idx_flavor_descriptors_item",
            "item_name",
            "item_category",
            postgresql_where=text("item_name IS NOT NULL"),
        ),
        Index("idx_flavor_descriptors_created_at", text("created_at DESC")),
        Index(
            "idx_flavor_descriptors_user_type_created",
            "user_id",
            "descriptor_type",
            text("created_at DESC"),
        ),
        # Revision 001.
        Index(
            "ix_flavor_descriptors_user_normalized_type",
            "user_id",
            "normalized_form",
            "descriptor_type",
        ),
        Index("ix_flavor_descriptors_category_subcategory", "category", "subcategory"),
        Index(
            "ix_flavor_descriptors_ai_extracted",
            "user_id",
            text("created_at DESC"),
            postgresql_where=text("ai_extracted OR extraction_model IS NOT NULL"),
        ),
        Index(
            "uq_flavor_descriptors_source_normalized_type",
            "source_type",
            "source_id",
            "normalized_form",
            "descriptor_type",
            unique=True,
        ),
        # Revision 004: keyset pages, newest first, id breaking created_at ties.
        Index(
            "ix_flavor_descriptors_user_created_id",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )


class FlavorWheel(Base):
    """A generated, cached flavor wheel."""

    __tablename__ = "flavor_wheels"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    wheel_type: Mapped[str] = mapped_column(Text)
    scope_type: Mapped[str] = mapped_column(Text)
    scope_filter: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    wheel_data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    total_descriptors: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    unique_descriptors: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    data_sources_count: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    generated_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ, server_default=text("now()"))
    expires_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ)
    version: Mapped[int | None] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ, server_default=text("now()"))
    updated_at: Mapped[datetime | None] = mapped_column(TIMESTAMPTZ, server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            _in_list("wheel_type", WHEEL_TYPES), name=conv("flavor_wheels_wheel_type_check")
        ),
        CheckConstraint(
            _in_list("scope_type", SCOPE_TYPES), name=conv("flavor_wheels_scope_type_check")
        ),
        Index("idx_flavor_wheels_user_id", "user_id"),
        Index("idx_flavor_wheels_scope", "scope_type", "wheel_type"),
        Index("idx_flavor_wheels_generated_at", text("generated_at DESC")),
        Index("idx_flavor_wheels_scope_filter", "scope_filter", postgresql_using="gin"),
        # Revision 001.
        Index("ix_flavor_wheels_user_wheel_scope", "user_id", "wheel_type", "scope_type"),
        Index(
            "ix_flavor_wheels_expires_at",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )


# The counts refresh_descriptor_views() keeps and adds the changes to
# (revision 003): after any changes they hold what a build from scratch holds.
REFRESH_COUNTS = (
    "mv_refresh_groups",
    "mv_refresh_group_texts",
    "mv_refresh_group_items",
    "mv_refresh_group_users",
    "mv_refresh_global_groups",
    "mv_refresh_user_sources",
    "mv_refresh_user_categories",
)

# Objects that revisions create with raw SQL and that these models do not
# describe; each name says which revision owns it.
SQL_MANAGED: dict[str, frozenset[str]] = {
    "table": frozenset(
        {
            "mv_refresh_log",  # 003: when refresh_descriptor_views() last ran
            "mv_refresh_changes",  # 003: rows changed since, appended by triggers
            # 002 and 003: tables kept up to date by refresh_descriptor_views()
            "mv_descriptor_search",
            "mv_descriptor_search_shared",
            "mv_descriptor_search_forms",
            "mv_descriptor_search_prefixes",
            "mv_descriptor_search_pairs",
            "mv_descriptor_search_pair_users",
            "mv_descriptor_search_user_pairs",
            "mv_user_descriptor_summary",
            "mv_global_descriptor_stats",
            "mv_category_descriptor_summary",
            "mv_wheel_generation_stats",
            "mv_user_wheel_subcategories",
            # 003: the counts the refresh adds changes to
            *REFRESH_COUNTS,
            "query_performance_hints",  # 004: documentation rows
            "partition_maintenance_log",  # 005: what the partition helpers did
            "performance_thresholds",  # 006: limits the alert check reads
            "performance_snapshots",  # 006: counters per snapshot
            "performance_snapshot_statements",  # 006: statement counters per snapshot
            "performance_alerts",  # 006: raised and resolved alerts
            "performance_baselines",  # 006: targets per kind of query
        }
    ),
    "index": frozenset(
        {
            # 002: trigram GIN indexes (operator classes) and the full-text expression index.
            "ix_flavor_descriptors_text_trgm",
            "ix_flavor_descriptors_normalized_trgm",
            "ix_flavor_descriptors_category_trgm",
            "ix_flavor_descriptors_subcategory_trgm",
            "ix_flavor_descriptors_search_vector",
            # 002: the search tables' keys, trigram and prefix indexes.
            "ux_mv_descriptor_search_key",
            "ix_mv_descriptor_search_trgm",
            "ix_mv_descriptor_search_prefix",
            "ux_mv_descriptor_search_shared_key",
            "ix_mv_descriptor_search_shared_trgm",
            "ux_mv_descriptor_search_forms_key",
            "ix_mv_descriptor_search_forms_trgm_0_6",
            "ix_mv_descriptor_search_forms_trgm_7_8",
            "ix_mv_descriptor_search_forms_trgm_9_10",
            "ix_mv_descriptor_search_forms_trgm_11_12",
            "ix_mv_descriptor_search_forms_trgm_13_14",
            "ix_mv_descriptor_search_forms_trgm_15_16",
            "ix_mv_descriptor_search_forms_trgm_17_18",
            "ix_mv_descriptor_search_forms_trgm_19_21",
            "ix_mv_descriptor_search_forms_trgm_22_up",
            "ux_mv_descriptor_search_prefixes_key",
            "ux_mv_descriptor_search_pairs_key",
            "ux_mv_descriptor_search_pair_users_key",
            "ux_mv_descriptor_search_user_pairs_key",
            # 003: the unique keys of the summary tables.
            "ux_mv_user_descriptor_summary_key",
            "ux_mv_global_descriptor_stats_key",
            "ux_mv_category_descriptor_summary_key",
            "ux_mv_wheel_generation_stats_key",
            "ux_mv_user_wheel_subcategories_key",
            # 003: the counts' keys, and the form index the refresh replaces groups by.
            *(f"{name}_key" for name in REFRESH_COUNTS),
            "mv_refresh_group_users_newest",  # 003: a group's newest time, one probe
            "ix_mv_global_descriptor_stats_group",
            "ix_mv_category_descriptor_summary_group",
            "ix_mv_user_descriptor_summary_wheel",
        }
    ),
    "column": frozenset(),
}


# Once revision 005 has switched flavor_descriptors to the partitioned table,
# these parts of the model hold in another form: the two unique keys are
# enforced by flavatix_partitions.flavor_descriptor_keys (a partitioned table
# can only enforce keys containing created_at), and created_at, the partition
# key, is NOT NULL.
PARTITIONED_DIFFERENCES: dict[str, frozenset[str]] = {
    "unique_constraint": frozenset({"flavor_descriptors_source_descriptor_key"}),
    "index": frozenset({"uq_flavor_descriptors_source_normalized_type"}),
    "column": frozenset({"flavor_descriptors.created_at"}),
}


def include_object_for(partitioned: bool) -> Any:
    """The autogenerate filter for a database in one of revision 005's two states."""
    if not partitioned:
        return include_object

    def include_partitioned(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "column":
            qualified = f"{obj.table.name}.{name}"
            if qualified in PARTITIONED_DIFFERENCES["column"]:
                return False
        elif name in PARTITIONED_DIFFERENCES.get(type_, frozenset()):
            return False
        return include_object(obj, name, type_, reflected, compare_to)

    return include_partitioned


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate filter: skip exactly the raw-SQL objects listed in SQL_MANAGED."""
    if type_ == "foreign_key_constraint" and getattr(obj, "referred_table", None) is not None:
        # The Supabase-only foreign key to auth.users: that schema is not ours to model.
        return bool(obj.referred_table.schema != "auth")
    return name not in SQL_MANAGED.get(type_, frozenset())
