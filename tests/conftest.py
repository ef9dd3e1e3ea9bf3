"""Test harness: one private PostgreSQL server for the session, template databases per state.

The server is started by the suite itself (as the postgres OS user when the
suite runs as root) with pg_stat_statements and pg_cron preloaded.
pytest-postgresql clones a fresh database from a template for every test, so a
state such as "at revision 000" is built once per session.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytest_postgresql import factories
from pytest_postgresql.executors import NoopExecutor

from flavatix_db import migrations, server_extensions
from flavatix_db.cluster import EPHEMERAL_SETTINGS, SUPERUSER, Cluster, ClusterError

SUPABASE_LIKE = Path(__file__).parent / "supabase_like.sql"
PLACEHOLDER_ROW = """
INSERT INTO public.flavor_descriptors
    (user_id, source_type, source_id, descriptor_text, descriptor_type)
VALUES (gen_random_uuid(), 'quick_tasting', gen_random_uuid(), 'placeholder', 'aroma')
"""
# The same on the Supabase stand-in, where the row needs a user in auth.users.
SUPABASE_PLACEHOLDER = """
WITH u AS (INSERT INTO auth.users (id) VALUES (gen_random_uuid()) RETURNING id)
INSERT INTO public.flavor_descriptors
    (user_id, source_type, source_id, descriptor_text, descriptor_type)
SELECT u.id, 'quick_tasting', gen_random_uuid(), 'placeholder', 'aroma' FROM u
"""
# pg_cron, as on Supabase. Its scheduler stays connected to cron.database_name,
# so that must be a database never used as a template: the maintenance one.
CRON_DATABASE = "postgres"
SUITE_SETTINGS = {
    **EPHEMERAL_SETTINGS,
    "shared_preload_libraries": "'pg_stat_statements,pg_cron'",
    "cron.database_name": f"'{CRON_DATABASE}'",
    # Every test clones a new database, and statistics are kept per database:
    # with the default 5,000 entries, a busy run evicts a test's statements
    # while it still counts their calls.
    "pg_stat_statements.max": "100000",
}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Without pg_cron the server would not start: say what to install instead."""
    try:
        missing = " ".join(server_extensions.missing_packages())
    except ClusterError as exc:
        raise pytest.UsageError(str(exc)) from None
    if missing:
        raise pytest.UsageError(
            f"the test suite needs {missing} (apt-get install {missing}; "
            "scripts/test does it when run as root)"
        )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[NoopExecutor]:
    home = Path(tempfile.mkdtemp(prefix="flavatix-tests-"))
    cluster = Cluster(home, database="postgres")
    try:
        cluster.start(settings=SUITE_SETTINGS)
        port = cluster.port()
        assert port is not None
        base = NoopExecutor(
            host="127.0.0.1", port=port, user=SUPERUSER, options="", dbname="flavatix_test"
        )
        # Every template below is cloned from this empty one.
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{base.template_dbname}"')
        yield base
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


def libpq_url(host: str, port: int | str, user: str, dbname: str) -> str:
    return f"postgresql://{user}@{host}:{port}/{dbname}"


def migrated_to(target: str, *, supabase: bool = False, switch: bool = True) -> Callable[..., None]:
    """A template loader: optionally the Supabase stand-in, then `alembic upgrade target`.

    Revision 005 partitions an empty flavor_descriptors during the upgrade;
    ``switch=False`` keeps it a plain table (one row present during 005).
    """

    def load(host: str, port: int, user: str, dbname: str, **_: Any) -> None:
        url = libpq_url(host, port, user, dbname)
        if supabase:
            with psycopg.connect(url) as conn:
                conn.execute(SUPABASE_LIKE.read_text())
        if target == "base":
            return
        if switch:
            migrations.upgrade(url, target)
            return
        migrations.upgrade(url, "004")
        with psycopg.connect(url) as conn:
            conn.execute(SUPABASE_PLACEHOLDER if supabase else PLACEHOLDER_ROW)
        migrations.upgrade(url, target)
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM public.flavor_descriptors")
            conn.execute("TRUNCATE public.mv_refresh_changes")

    return load


pg_empty = factories.postgresql_noproc(depends_on="pg_server", dbname="fx_empty")
pg_at_000 = factories.postgresql_noproc(
    depends_on="pg_server", dbname="fx_000", load=[migrated_to("000")]
)
pg_at_head = factories.postgresql_noproc(
    depends_on="pg_server", dbname="fx_head", load=[migrated_to("head")]
)
pg_at_head_plain = factories.postgresql_noproc(
    depends_on="pg_server", dbname="fx_head_plain", load=[migrated_to("head", switch=False)]
)
pg_supabase_empty = factories.postgresql_noproc(
    depends_on="pg_server", dbname="fx_sb_empty", load=[migrated_to("base", supabase=True)]
)
pg_supabase_head = factories.postgresql_noproc(
    depends_on="pg_server", dbname="fx_sb_head", load=[migrated_to("head", supabase=True)]
)

empty_conn = factories.postgresql("pg_empty")
at_000_conn = factories.postgresql("pg_at_000")
at_head_conn = factories.postgresql("pg_at_head")
at_head_plain_conn = factories.postgresql("pg_at_head_plain")
pg_supabase_head_plain = factories.postgresql_noproc(
    depends_on="pg_server",
    dbname="fx_sb_head_plain",
    load=[migrated_to("head", supabase=True, switch=False)],
)
supabase_empty_conn = factories.postgresql("pg_supabase_empty")
supabase_head_conn = factories.postgresql("pg_supabase_head")
supabase_head_plain_conn = factories.postgresql("pg_supabase_head_plain")


def url_of(conn: psycopg.Connection[Any]) -> str:
    info = conn.info
    return libpq_url(info.host, info.port, info.user, info.dbname)


@pytest.fixture
def empty_db_url(empty_conn: psycopg.Connection[Any]) -> str:
    """A fresh, empty database."""
    return url_of(empty_conn)


@pytest.fixture
def baseline_db_url(at_000_conn: psycopg.Connection[Any]) -> str:
    """A fresh database at revision 000 with empty tables."""
    return url_of(at_000_conn)


@pytest.fixture
def head_db_url(at_head_conn: psycopg.Connection[Any]) -> str:
    """A fresh database at head with empty tables."""
    return url_of(at_head_conn)


@pytest.fixture
def head_plain_db_url(at_head_plain_conn: psycopg.Connection[Any]) -> str:
    """A fresh database at head whose flavor_descriptors is still a plain table (005 unswitched)."""
    return url_of(at_head_plain_conn)


@pytest.fixture
def supabase_empty_db_url(supabase_empty_conn: psycopg.Connection[Any]) -> str:
    """A fresh database with Supabase's auth schema, roles and extensions schema."""
    return url_of(supabase_empty_conn)


@pytest.fixture
def supabase_head_db_url(supabase_head_conn: psycopg.Connection[Any]) -> str:
    """The Supabase stand-in, migrated to head."""
    return url_of(supabase_head_conn)


@pytest.fixture
def supabase_head_plain_db_url(supabase_head_plain_conn: psycopg.Connection[Any]) -> str:
    """The Supabase stand-in at head, flavor_descriptors still a plain table (005 unswitched)."""
    return url_of(supabase_head_plain_conn)
