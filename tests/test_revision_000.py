"""Revision 000: the baseline schema, on plain PostgreSQL and on Supabase."""

from __future__ import annotations

import time

import psycopg2
import pytest
from sqlalchemy.exc import DBAPIError

from flavatix_db import migrations
from tests.dbtools import catalog_snapshot, execute, insert_descriptor, query, scalar


def test_baseline_tables_constraints_and_indexes(baseline_db_url: str) -> None:
    snap = catalog_snapshot(baseline_db_url)
    assert ("flavor_descriptors", "r") in snap["relations"]
    assert ("flavor_wheels", "r") in snap["relations"]
    index_names = {name for name, _ in snap["indexes"]}
    assert {
        "idx_flavor_descriptors_user_id",
        "idx_flavor_descriptors_source",
        "idx_flavor_descriptors_type",
        "idx_flavor_descriptors_category",
        "idx_flavor_descriptors_item",
        "idx_flavor_descriptors_created_at",
        "idx_flavor_descriptors_user_type_created",
        "idx_flavor_wheels_user_id",
        "idx_flavor_wheels_scope",
        "idx_flavor_wheels_generated_at",
        "idx_flavor_wheels_scope_filter",
    } <= index_names
    constraint_names = {name for _, name, _, _ in snap["constraints"]}
    assert "flavor_descriptors_source_descriptor_key" in constraint_names
    assert "flavor_descriptors_descriptor_type_check" in constraint_names
    # Plain PostgreSQL: no auth schema, so no foreign keys and no policies.
    assert not [c for c in snap["constraints"] if c[1].endswith("_fkey")]
    assert snap["policies"] == []


def test_baseline_rejects_values_outside_its_lists(baseline_db_url: str) -> None:
    with pytest.raises(psycopg2.errors.CheckViolation, match="descriptor_type_check"):
        insert_descriptor(baseline_db_url, descriptor_type="mouthfeel")
    with pytest.raises(psycopg2.errors.CheckViolation, match="intensity_check"):
        insert_descriptor(baseline_db_url, intensity=6)


def test_updated_at_trigger_moves_on_update(baseline_db_url: str) -> None:
    row_id = insert_descriptor(baseline_db_url, updated_at="2020-01-01T00:00:00Z")
    time.sleep(0.01)
    execute(
        baseline_db_url,
        "UPDATE public.flavor_descriptors SET intensity = 3 WHERE id = %s",
        (str(row_id),),
    )
    year = scalar(
        baseline_db_url,
        "SELECT extract(year FROM updated_at) FROM public.flavor_descriptors WHERE id = %s",
        (str(row_id),),
    )
    assert year > 2020


def test_supabase_gets_foreign_keys_and_row_level_security(supabase_empty_db_url: str) -> None:
    migrations.upgrade(supabase_empty_db_url, "000")
    snap = catalog_snapshot(supabase_empty_db_url)
    fks = {name for _, name, _, _ in snap["constraints"] if name.endswith("_fkey")}
    assert fks == {"flavor_descriptors_user_id_fkey", "flavor_wheels_user_id_fkey"}
    policies = {(table, name) for table, name, _, _ in snap["policies"]}
    assert ("flavor_descriptors", "flavor_descriptors_select_own") in policies
    assert ("flavor_wheels", "flavor_wheels_select_own_or_universal") in policies
    rls = query(
        supabase_empty_db_url,
        "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN "
        "('flavor_descriptors', 'flavor_wheels') ORDER BY 1",
    )
    assert rls == [("flavor_descriptors", True), ("flavor_wheels", True)]


def test_downgrade_below_baseline_drops_an_empty_schema(baseline_db_url: str) -> None:
    migrations.downgrade(baseline_db_url, "base")
    assert catalog_snapshot(baseline_db_url)["relations"] == []


def test_downgrade_below_baseline_refuses_while_descriptors_exist(baseline_db_url: str) -> None:
    insert_descriptor(baseline_db_url)
    with pytest.raises(DBAPIError, match="holds data") as failure:
        migrations.downgrade(baseline_db_url, "base")
    assert failure.value.orig.pgcode == "55000"  # type: ignore[union-attr]
    assert scalar(baseline_db_url, "SELECT count(*) FROM public.flavor_descriptors") == 1
    assert migrations.current_revision(baseline_db_url) == "000"
