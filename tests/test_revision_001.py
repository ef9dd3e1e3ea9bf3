"""Revision 001: normalized forms, widened value lists, NOT NULLs and indexes."""

from __future__ import annotations

import pytest
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from flavatix_db import migrations
from tests.dbtools import (
    catalog_snapshot,
    descriptors_checksum,
    execute,
    insert_descriptor,
    load_sample,
    query,
    scalar,
)

NEW_INDEXES = {
    "ix_flavor_descriptors_user_normalized_type": ("(user_id, normalized_form, descriptor_type)"),
    "ix_flavor_descriptors_category_subcategory": "(category, subcategory)",
    "ix_flavor_descriptors_ai_extracted": (
        "(user_id, created_at DESC) WHERE (ai_extracted OR (extraction_model IS NOT NULL))"
    ),
    "uq_flavor_descriptors_source_normalized_type": (
        "(source_type, source_id, normalized_form, descriptor_type)"
    ),
    "ix_flavor_wheels_user_wheel_scope": "(user_id, wheel_type, scope_type)",
    "ix_flavor_wheels_expires_at": "(expires_at) WHERE (expires_at IS NOT NULL)",
}


def pgcode(exc: pytest.ExceptionInfo[DBAPIError]) -> str:
    return str(getattr(exc.value.orig, "pgcode", ""))


def mismatched_forms(url: str) -> int:
    return int(
        scalar(
            url,
            "SELECT count(*) FROM public.flavor_descriptors "
            "WHERE normalized_form IS DISTINCT FROM "
            "public.normalize_descriptor_text(descriptor_text)",
        )
    )


def test_catalog_after_upgrade(head_plain_db_url: str) -> None:
    # On the plain table; test_revision_005 checks where the keys go once partitioned.
    snap = catalog_snapshot(head_plain_db_url)
    indexes = dict(snap["indexes"])
    for name, definition in NEW_INDEXES.items():
        assert name in indexes, name
        assert indexes[name].endswith(definition), indexes[name]
    assert "UNIQUE" in indexes["uq_flavor_descriptors_source_normalized_type"]
    # The baseline's indexes are still there under their own names.
    assert "idx_flavor_descriptors_user_type_created" in indexes
    assert snap["invalid_indexes"] == []
    constraints = {name: (definition, valid) for _, name, definition, valid in snap["constraints"]}
    assert "flavor_descriptors_descriptor_type_check" not in constraints
    assert "flavor_descriptors_source_type_check" not in constraints
    assert "'mouthfeel'" in constraints["ck_flavor_descriptors_descriptor_type"][0]
    assert "'study_session'" in constraints["ck_flavor_descriptors_source_type"][0]
    assert all(valid for _, valid in constraints.values())
    # The NOT NULL helper checks did their job and are gone.
    assert not [name for name in constraints if name.endswith("_not_null")]
    nullable = {(table, column): is_null for table, column, _, is_null, _ in snap["columns"]}
    for column in (
        "user_id",
        "source_type",
        "source_id",
        "descriptor_text",
        "descriptor_type",
        "normalized_form",
        "ai_extracted",
    ):
        assert nullable[("flavor_descriptors", column)] == "NO", column
    assert nullable[("flavor_descriptors", "extraction_model")] == "YES"
    triggers = {name for _, name, _ in snap["triggers"]}
    assert "zz_flavor_descriptors_normalized_form" in triggers
    assert ("unaccent",) in snap["extensions"]


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Crème Brûlée", "creme brulee"),
        ("  dark \t  CHERRY\n", "dark cherry"),
        ("Café\u00a0au   Lait", "cafe au lait"),
        ("JALAPEÑO", "jalapeno"),
        ("peaty", "peaty"),
        ("", ""),
    ],
)
def test_normalize_descriptor_text(head_db_url: str, typed: str, normalized: str) -> None:
    assert scalar(head_db_url, "SELECT public.normalize_descriptor_text(%s)", (typed,)) == (
        normalized
    )


def test_normalize_is_null_in_null_out_and_ignores_search_path(head_db_url: str) -> None:
    assert scalar(head_db_url, "SELECT public.normalize_descriptor_text(NULL)") is None
    value = scalar(
        head_db_url,
        "SET search_path = pg_catalog; SELECT public.normalize_descriptor_text('Rosé');",
    )
    assert value == "rose"


def test_trigger_keeps_normalized_form_on_insert_and_update(head_db_url: str) -> None:
    # Whatever a writer sends, the stored value is the normalized text.
    row = insert_descriptor(head_db_url, descriptor_text="  Dark CHERRY ", normalized_form="junk")
    form = "SELECT normalized_form FROM public.flavor_descriptors WHERE id = %s"
    assert scalar(head_db_url, form, (str(row),)) == "dark cherry"
    execute(
        head_db_url,
        "UPDATE public.flavor_descriptors SET descriptor_text = 'Crème' WHERE id = %s",
        (str(row),),
    )
    assert scalar(head_db_url, form, (str(row),)) == "creme"
    # Old code that never mentions the new columns still inserts fine.
    old_style = insert_descriptor(head_db_url, descriptor_text="Vanilla")
    assert scalar(head_db_url, form, (str(old_style),)) == "vanilla"
    assert (
        scalar(
            head_db_url,
            "SELECT ai_extracted FROM public.flavor_descriptors WHERE id = %s",
            (str(old_style),),
        )
        is False
    )


def test_widened_values_accepted_and_bad_values_rejected_by_name(head_db_url: str) -> None:
    insert_descriptor(head_db_url, descriptor_type="mouthfeel", descriptor_text="chalky")
    insert_descriptor(head_db_url, descriptor_type="defect", descriptor_text="corked")
    insert_descriptor(head_db_url, source_type="study_session", descriptor_text="honey")
    with pytest.raises(Exception, match="ck_flavor_descriptors_descriptor_type"):
        insert_descriptor(head_db_url, descriptor_type="smell")
    with pytest.raises(Exception, match="ck_flavor_descriptors_source_type"):
        insert_descriptor(head_db_url, source_type="tweet")
    with pytest.raises(Exception, match="flavor_descriptors_confidence_score_check"):
        insert_descriptor(head_db_url, confidence_score=1.5)


def test_one_source_cannot_hold_two_spellings_of_one_descriptor(head_db_url: str) -> None:
    first = insert_descriptor(head_db_url, descriptor_text="Cherry")
    source = scalar(
        head_db_url, "SELECT source_id FROM public.flavor_descriptors WHERE id = %s", (str(first),)
    )
    with pytest.raises(Exception, match="uq_flavor_descriptors_source_normalized_type"):
        insert_descriptor(head_db_url, descriptor_text=" cherry ", source_id=source)


def test_descriptor_exists(head_db_url: str) -> None:
    row = insert_descriptor(head_db_url, descriptor_text="Crème Brûlée", descriptor_type="flavor")
    user = scalar(
        head_db_url, "SELECT user_id FROM public.flavor_descriptors WHERE id = %s", (str(row),)
    )
    call = "SELECT public.descriptor_exists(%s, %s, %s)"
    assert scalar(head_db_url, call, (user, "  creme BRULEE", "flavor")) is True
    assert scalar(head_db_url, call, (user, "creme brulee", "aroma")) is False
    assert scalar(head_db_url, call, (user, "cherry", "flavor")) is False


@pytest.mark.parametrize(
    ("args", "sqlstate", "message"),
    [
        ((None, "cherry", "aroma"), "22004", "p_user_id"),
        (("00000000-0000-0000-0000-000000000001", "  ", "aroma"), "22023", "p_descriptor_text"),
        (("00000000-0000-0000-0000-000000000001", "cherry", "smell"), "22023", "p_descriptor_type"),
    ],
)
def test_descriptor_exists_rejects_bad_arguments(
    head_db_url: str, args: tuple[str | None, ...], sqlstate: str, message: str
) -> None:
    import psycopg2

    with pytest.raises(psycopg2.Error, match=message) as failure:
        scalar(head_db_url, "SELECT public.descriptor_exists(%s::uuid, %s, %s)", args)
    assert failure.value.pgcode == sqlstate


def test_upgrade_and_downgrade_keep_every_row(baseline_db_url: str) -> None:
    load_sample(baseline_db_url, 5000)
    before = descriptors_checksum(baseline_db_url)
    baseline_catalog = catalog_snapshot(baseline_db_url)
    migrations.upgrade(baseline_db_url, "001")
    assert descriptors_checksum(baseline_db_url) == before
    assert mismatched_forms(baseline_db_url) == 0
    migrations.downgrade(baseline_db_url, "000")
    assert descriptors_checksum(baseline_db_url) == before
    # Exactly what 000 made: same columns, constraints (validated), indexes, triggers.
    assert catalog_snapshot(baseline_db_url) == baseline_catalog
    migrations.upgrade(baseline_db_url, "001")
    assert descriptors_checksum(baseline_db_url) == before


def test_backfill_leaves_updated_at_alone(baseline_db_url: str) -> None:
    load_sample(baseline_db_url, 500)
    stamps = "SELECT md5(string_agg(updated_at::text, ',' ORDER BY id)) FROM flavor_descriptors"
    before = scalar(baseline_db_url, stamps)
    migrations.upgrade(baseline_db_url, "001")
    assert scalar(baseline_db_url, stamps) == before


def test_stale_production_columns_are_fixed_and_their_data_kept(baseline_db_url: str) -> None:
    # Production databases got these three columns from a hand-applied script.
    load_sample(baseline_db_url, 1000)
    execute(
        baseline_db_url,
        """
        ALTER TABLE public.flavor_descriptors
            ADD COLUMN normalized_form text,
            ADD COLUMN ai_extracted boolean DEFAULT false,
            ADD COLUMN extraction_model text;
        UPDATE public.flavor_descriptors
        SET normalized_form = CASE WHEN intensity = 2 THEN NULL
                                   ELSE 'stale ' || descriptor_text END,
            ai_extracted = CASE WHEN intensity = 3 THEN NULL ELSE intensity = 4 END,
            extraction_model = CASE WHEN intensity = 4 THEN 'model-x' END;
        """,
    )
    ai_rows = scalar(baseline_db_url, "SELECT count(*) FROM flavor_descriptors WHERE ai_extracted")
    assert ai_rows > 0
    before = descriptors_checksum(baseline_db_url)
    migrations.upgrade(baseline_db_url, "001")
    assert mismatched_forms(baseline_db_url) == 0
    assert scalar(
        baseline_db_url, "SELECT count(*) FROM flavor_descriptors WHERE ai_extracted"
    ) == (ai_rows)
    assert (
        scalar(
            baseline_db_url, "SELECT count(*) FROM flavor_descriptors WHERE ai_extracted IS NULL"
        )
        == 0
    )
    # Downgrading keeps the AI columns because they hold data; rows are untouched.
    migrations.downgrade(baseline_db_url, "000")
    assert descriptors_checksum(baseline_db_url) == before
    assert (
        scalar(
            baseline_db_url,
            "SELECT count(*) FROM flavor_descriptors WHERE extraction_model = 'model-x'",
        )
        == ai_rows
    )


def test_invalid_leftover_index_is_rebuilt(baseline_db_url: str) -> None:
    # An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index behind.
    load_sample(baseline_db_url, 200)
    execute(
        baseline_db_url,
        """
        CREATE INDEX ix_flavor_descriptors_category_subcategory
            ON public.flavor_descriptors (item_name);
        UPDATE pg_index SET indisvalid = false
        WHERE indexrelid = 'public.ix_flavor_descriptors_category_subcategory'::regclass;
        """,
    )
    migrations.upgrade(baseline_db_url, "001")
    row = query(
        baseline_db_url,
        """SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indexrelid = 'public.ix_flavor_descriptors_category_subcategory'::regclass""",
    )[0]
    assert row[0] is True
    assert row[1].endswith("(category, subcategory)")


def test_duplicate_spellings_in_a_source_stop_the_upgrade_with_advice(
    baseline_db_url: str,
) -> None:
    first = insert_descriptor(baseline_db_url, descriptor_text="Cherry")
    source = scalar(
        baseline_db_url,
        "SELECT source_id FROM public.flavor_descriptors WHERE id = %s",
        (str(first),),
    )
    insert_descriptor(baseline_db_url, descriptor_text="cherry ", source_id=source)
    before = descriptors_checksum(baseline_db_url)
    with pytest.raises(CommandError, match="HAVING count"):
        migrations.upgrade(baseline_db_url, "001")
    assert descriptors_checksum(baseline_db_url) == before
    assert migrations.current_revision(baseline_db_url) == "000"
    invalid = scalar(baseline_db_url, "SELECT count(*) FROM pg_index WHERE NOT indisvalid")
    assert invalid == 0
    # Fixed by hand, the same upgrade resumes and finishes.
    execute(
        baseline_db_url,
        "DELETE FROM public.flavor_descriptors WHERE descriptor_text = 'cherry '",
    )
    migrations.upgrade(baseline_db_url, "001")
    assert migrations.current_revision(baseline_db_url) == "001"


def test_downgrade_refuses_while_rows_use_widened_values(baseline_db_url: str) -> None:
    migrations.upgrade(baseline_db_url, "001")
    insert_descriptor(baseline_db_url, descriptor_type="mouthfeel", descriptor_text="chalky")
    before = catalog_snapshot(baseline_db_url)
    with pytest.raises(DBAPIError, match="mouthfeel") as failure:
        migrations.downgrade(baseline_db_url, "000")
    assert pgcode(failure) == "55000"
    assert "Nothing was changed" in str(failure.value)
    assert catalog_snapshot(baseline_db_url) == before
    assert migrations.current_revision(baseline_db_url) == "001"
