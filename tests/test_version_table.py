"""The version table lives in flavatix_migrations, out of the API roles' reach.

Deploy commands keep working; a database whose version table an earlier release
left in public moves it on its next run, stamp included.
"""

from __future__ import annotations

import pytest

from flavatix_db import migrations
from tests.dbtools import execute, run_alembic, scalar
from tests.handbuilt import call_as, sqlstate_of

VERSION_NUM = "SELECT version_num FROM flavatix_migrations.alembic_version"
LEGACY_AT_002 = """
CREATE TABLE public.alembic_version (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO public.alembic_version VALUES ('002');
"""


def test_deploy_commands_use_the_new_place(head_db_url: str) -> None:
    head = migrations.head_revision()
    assert scalar(head_db_url, "SELECT to_regclass('public.alembic_version')") is None
    assert scalar(head_db_url, VERSION_NUM) == head

    current = run_alembic(head_db_url, "current")
    assert current.returncode == 0, current.stderr
    assert f"{head} (head)" in current.stdout

    stamp = run_alembic(head_db_url, "stamp", "003")
    assert stamp.returncode == 0, stamp.stderr
    assert scalar(head_db_url, VERSION_NUM) == "003"
    assert migrations.current_revision(head_db_url) == "003"

    upgrade = run_alembic(head_db_url, "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.stderr
    assert scalar(head_db_url, VERSION_NUM) == head

    downgrade = run_alembic(head_db_url, "downgrade", "003")
    assert downgrade.returncode == 0, downgrade.stderr
    assert scalar(head_db_url, VERSION_NUM) == "003"
    assert scalar(head_db_url, "SELECT to_regclass('public.alembic_version')") is None


def test_offline_stamp_and_downgrade_name_the_new_place(empty_db_url: str) -> None:
    stamp = run_alembic(empty_db_url, "stamp", "002", "--sql")
    assert stamp.returncode == 0, stamp.stderr
    assert "INSERT INTO flavatix_migrations.alembic_version" in stamp.stdout
    down = run_alembic(empty_db_url, "downgrade", "002:001", "--sql")
    assert down.returncode == 0, down.stderr
    assert "UPDATE flavatix_migrations.alembic_version SET version_num='001'" in down.stdout
    assert "ALTER TABLE public.alembic_version SET SCHEMA flavatix_migrations" in down.stdout


@pytest.fixture
def legacy_at_002(supabase_empty_db_url: str) -> str:
    """A Supabase database migrated to 002 by a release that kept the version table in public."""
    url = supabase_empty_db_url
    migrations.upgrade(url, "002")
    execute(url, "DROP SCHEMA flavatix_migrations CASCADE")
    execute(url, LEGACY_AT_002)  # public's default privileges grant it to the API roles
    return url


def test_legacy_version_table_was_open_to_anon(legacy_at_002: str) -> None:
    # What the move fixes: one request through the API rewrites the migration state.
    sql = "UPDATE public.alembic_version SET version_num = '004' RETURNING version_num"
    assert call_as(legacy_at_002, sql, role="anon") == [("004",)]


def test_legacy_version_table_moves_with_its_stamp(legacy_at_002: str) -> None:
    url = legacy_at_002
    # Read where it is without moving it.
    assert migrations.current_revision(url) == "002"
    assert scalar(url, "SELECT to_regclass('public.alembic_version')") is not None

    current = run_alembic(url, "current")
    assert current.returncode == 0, current.stderr
    assert "002" in current.stdout
    assert "moved public.alembic_version" in current.stderr
    assert scalar(url, "SELECT to_regclass('public.alembic_version')") is None
    assert scalar(url, VERSION_NUM) == "002"
    # The grants it had in public went with it, and were taken away.
    for role in ("anon", "authenticated"):
        assert not scalar(
            url,
            "SELECT has_table_privilege(%s, 'flavatix_migrations.alembic_version', "
            "'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')",
            (role,),
        )

    upgrade = run_alembic(url, "upgrade", "head")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Running upgrade 001 -> 002" not in upgrade.stderr
    assert "Running upgrade 002 -> 003" in upgrade.stderr
    assert scalar(url, VERSION_NUM) == migrations.head_revision()


def test_a_stray_public_table_beside_ours_is_reported_not_used(head_db_url: str) -> None:
    execute(head_db_url, LEGACY_AT_002)
    current = run_alembic(head_db_url, "current")
    assert current.returncode == 0, current.stderr
    assert f"{migrations.head_revision()} (head)" in current.stdout
    assert "public.alembic_version is not used" in current.stderr
    assert scalar(head_db_url, "SELECT version_num FROM public.alembic_version") == "002"


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT version_num FROM flavatix_migrations.alembic_version",
        "UPDATE flavatix_migrations.alembic_version SET version_num = '000'",
        "DELETE FROM flavatix_migrations.alembic_version",
    ],
    ids=["read", "update", "delete"],
)
def test_api_roles_cannot_touch_the_version_table(
    supabase_head_db_url: str, role: str, sql: str
) -> None:
    sub = "00000000-0000-4000-8000-00000000aaaa"
    assert sqlstate_of(supabase_head_db_url, sql, role=role, sub=sub) == "42501"
    assert scalar(supabase_head_db_url, VERSION_NUM) == migrations.head_revision()
    for grantee in ("public", role):  # "public" stands for PUBLIC here
        assert not scalar(
            supabase_head_db_url,
            "SELECT has_schema_privilege(%s, 'flavatix_migrations', 'USAGE')",
            (grantee,),
        )
