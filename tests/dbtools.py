"""Small helpers the tests share: connections, catalog snapshots, checksums, the alembic CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC = [sys.executable, "-m", "alembic", "-c", str(PROJECT_ROOT / "alembic.ini")]

BASELINE_COLUMNS = (
    "id, user_id, source_type, source_id, descriptor_text, descriptor_type, category, "
    "subcategory, confidence_score, intensity, item_name, item_category, created_at, updated_at"
)


@contextmanager
def connect(url: str, autocommit: bool = True) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(url)
    conn.autocommit = autocommit
    try:
        yield conn
    finally:
        conn.close()


def query(url: str, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[Any]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def column(url: str, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[Any]:
    """The first column of every row."""
    return [row[0] for row in query(url, sql, params)]


def scalar(url: str, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
    rows = query(url, sql, params)
    return rows[0][0] if rows else None


def execute(url: str, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)


def descriptors_checksum(url: str) -> tuple[int, str]:
    """Row count and an md5 over every baseline column of every descriptor."""
    row = query(
        url,
        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) "
        f"FROM (SELECT {BASELINE_COLUMNS} FROM public.flavor_descriptors) AS t",
    )[0]
    return int(row[0]), str(row[1])


def insert_descriptor(url: str, **values: Any) -> uuid.UUID:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "source_type": "quick_tasting",
        "source_id": uuid.uuid4(),
        "descriptor_text": "cherry",
        "descriptor_type": "aroma",
        **values,
    }
    columns = ", ".join(row)
    placeholders = ", ".join(f"%({name})s" for name in row)
    params = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in row.items()}
    execute(
        url, f"INSERT INTO public.flavor_descriptors ({columns}) VALUES ({placeholders})", params
    )
    return uuid.UUID(str(row["id"]))


# The users load_sample writes as, for a database whose descriptors reference auth.users.
SAMPLE_AUTH_USERS = """
INSERT INTO auth.users (id)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid
FROM generate_series(0, 36) AS g
ON CONFLICT DO NOTHING
"""


def load_sample(url: str, rows: int, *, seed: int = 7) -> None:
    """Varied baseline rows generated server-side: variants of a few words across users."""
    execute(
        url,
        """
        SELECT setseed(%(seed)s);
        INSERT INTO public.flavor_descriptors
            (user_id, source_type, source_id, descriptor_text, descriptor_type, category,
             subcategory, confidence_score, intensity, item_name, item_category, created_at,
             updated_at)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g %% 37), 12, '0'))::uuid,
               (ARRAY['quick_tasting', 'quick_review', 'prose_review'])[1 + g %% 3],
               ('00000000-0000-4000-9000-' || lpad(to_hex(g / 8), 12, '0'))::uuid,
               (ARRAY['Cherry', '  dark   cherry ', 'Crème Brûlée', 'VANILLA', 'toasted oak',
                      'Café au lait', 'peaty', 'silky'])[1 + g %% 8] || ' ' || (g / 8 %% 50),
               (ARRAY['aroma', 'flavor', 'texture', 'metaphor'])[1 + g %% 4],
               CASE WHEN g %% 5 = 0 THEN NULL
                    ELSE (ARRAY['Fruity', 'Woody', 'Sweet'])[1 + g %% 3] END,
               CASE WHEN g %% 7 = 0 THEN NULL ELSE 'Sub ' || (g %% 4) END,
               round((0.5 + random() / 2)::numeric, 2),
               CASE WHEN g %% 6 = 0 THEN NULL ELSE 1 + g %% 5 END,
               'Item ' || (g %% 11), (ARRAY['whiskey', 'coffee', 'wine'])[1 + g %% 3],
               timestamptz '2025-01-01' + g * interval '17 minutes',
               timestamptz '2025-01-01' + g * interval '17 minutes'
        FROM generate_series(0, %(rows)s - 1) AS g;
        ANALYZE public.flavor_descriptors;
        """,
        {"seed": seed / 100.0, "rows": rows},
    )


def catalog_snapshot(url: str) -> dict[str, Any]:
    """Everything about the public schema a migration could change, as comparable text."""
    return {
        "columns": query(
            url,
            """SELECT table_name, column_name, data_type, is_nullable, column_default
               FROM information_schema.columns WHERE table_schema = 'public'
               ORDER BY table_name, column_name""",
        ),
        "constraints": query(
            url,
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace
               ORDER BY 1, 2""",
        ),
        "indexes": query(
            url,
            """SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
               ORDER BY indexname""",
        ),
        "invalid_indexes": query(
            url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        ),
        "triggers": query(
            url,
            """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
               FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
        ),
        "routines": query(
            url,
            """SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid))
               FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
                 AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid
                                 AND d.deptype = 'e')
               ORDER BY 1""",
        ),
        "relations": query(
            url,
            """SELECT relname, relkind FROM pg_class
               WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'v', 'm', 'p')
               ORDER BY relname""",
        ),
        "policies": query(
            url,
            "SELECT tablename, policyname, qual, with_check FROM pg_policies ORDER BY 1, 2",
        ),
        "extensions": query(url, "SELECT extname FROM pg_extension ORDER BY 1"),
    }


def run_alembic(
    url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The alembic CLI, as a deploy pipeline runs it, against ``url``."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DATABASE_URL", None)
    full_env.update({"DATABASE_URL": url})
    return subprocess.run(
        [*ALEMBIC, *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
