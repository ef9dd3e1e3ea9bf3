"""The suite's server: pg_cron preloaded as on Supabase, plpgsql_check available."""

from __future__ import annotations

from pytest_postgresql.executors import NoopExecutor

from flavatix_db import server_extensions
from tests.conftest import CRON_DATABASE, libpq_url
from tests.dbtools import connect, scalar


def test_the_test_extensions_are_installed() -> None:
    assert server_extensions.missing_packages() == []


def test_pg_cron_is_preloaded_and_can_be_created(pg_server: NoopExecutor) -> None:
    url = libpq_url(pg_server.host, pg_server.port, pg_server.user, CRON_DATABASE)
    assert "pg_cron" in scalar(url, "SHOW shared_preload_libraries")
    assert scalar(url, "SHOW cron.database_name") == CRON_DATABASE
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_cron")
        try:
            cur.execute("SELECT count(*) FROM cron.job")
            assert cur.fetchone() == (0,)
            # The scheduler is a background worker that exists only when preloaded.
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"
            )
            assert cur.fetchone() == (1,)
        finally:
            cur.execute("DROP EXTENSION pg_cron")
