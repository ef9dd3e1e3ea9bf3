"""The objects each revision makes, for revision 007's frozen CATALOGUE.

Migrates scratch databases revision by revision (plain and Supabase-like, with
005 switching an empty table and leaving a populated one plain), takes
007's catalogue_objects() query after each revision, and prints what each one
added, changed or removed, as the tab-separated lines CATALOGUE holds:
revision, env (any/plain/supabase), variant (any/plain/switched), kind, name, state.

    python -m tests.revision_catalogue postgresql://postgres@127.0.0.1:5432/postgres --write

The server's user must be able to create databases and roles. With --write the
lines replace CATALOGUE in the revision file; rerun it whenever a revision
beneath 007 is added.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections import defaultdict
from types import ModuleType

import psycopg
from alembic.script import ScriptDirectory

from flavatix_db import migrations
from tests.conftest import PLACEHOLDER_ROW, SUPABASE_LIKE, SUPABASE_PLACEHOLDER
from tests.dbtools import PROJECT_ROOT

Key = tuple[str, str]
REVISION_007 = PROJECT_ROOT / "alembic" / "versions" / "007_rollback_procedures.py"


def revision_007() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revision_007", REVISION_007)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config())


def snapshot(url: str, query: str) -> dict[Key, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET search_path = ''")
        return {(kind, name): state for kind, name, state in conn.execute(query).fetchall()}


def chain(server_url: str, env: str, variant: str, query: str) -> dict[str, dict[Key, str]]:
    """What each revision changed, in one scratch database."""
    database = f"fx_catalogue_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = server_url.rsplit("/", 1)[0] + "/" + database
    try:
        if env == "supabase":
            with psycopg.connect(url) as conn:
                conn.execute(SUPABASE_LIKE.read_text())
        revisions = [rev.revision for rev in reversed(list(scripts().walk_revisions()))]
        changes: dict[str, dict[Key, str]] = {}
        before = snapshot(url, query)
        for revision in revisions:
            if revision == "005" and variant == "plain":
                with psycopg.connect(url) as conn:
                    conn.execute(SUPABASE_PLACEHOLDER if env == "supabase" else PLACEHOLDER_ROW)
            migrations.upgrade(url, revision)
            if revision == "005" and variant == "plain":
                with psycopg.connect(url) as conn:
                    conn.execute("DELETE FROM public.flavor_descriptors")
            after = snapshot(url, query)
            changed = {key: state for key, state in after.items() if before.get(key) != state}
            changed.update({key: "absent" for key in before if key not in after})
            changes[revision] = changed
            before = after
        return changes
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def collapse(chains: dict[tuple[str, str], dict[str, dict[Key, str]]]) -> list[tuple[str, ...]]:
    """One line per (revision, key, state), marked with the environments it holds in."""
    seen: dict[tuple[str, Key, str], set[tuple[str, str]]] = defaultdict(set)
    for where, changes in chains.items():
        for revision, changed in changes.items():
            for key, state in changed.items():
                seen[(revision, key, state)].add(where)
    envs, variants = ("plain", "supabase"), ("plain", "switched")
    lines = []
    for (revision, (kind, name), state), where in seen.items():
        marks: list[tuple[str, str]] = []
        if len(where) == 4:
            marks = [("any", "any")]
        else:
            for env in envs:
                if {(env, v) for v in variants} <= where:
                    marks.append((env, "any"))
                    where = where - {(env, v) for v in variants}
            for variant in variants:
                if {(e, variant) for e in envs} <= where:
                    marks.append(("any", variant))
                    where = where - {(e, variant) for e in envs}
            marks.extend(sorted(where))
        lines.extend((revision, env, variant, kind, name, state) for env, variant in marks)
    return sorted(lines)


API_ROLES = """
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END;
$$
"""
BLOCK_START = 'CATALOGUE = """\n'


def write_into_revision(lines: list[tuple[str, ...]]) -> None:
    text = REVISION_007.read_text()
    start = text.index(BLOCK_START) + len(BLOCK_START)
    end = text.index('"""', start)
    body = "".join("\t".join(line) + "\n" for line in lines)
    REVISION_007.write_text(text[:start] + body + text[end:])


def main(server_url: str, write: bool) -> None:
    query = revision_007().CATALOGUE_QUERY
    # Roles are the cluster's: every chain sees the same ones, as on Supabase.
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(API_ROLES)
    chains = {
        (env, variant): chain(server_url, env, variant, query)
        for env in ("plain", "supabase")
        for variant in ("plain", "switched")
    }
    lines = collapse(chains)
    if write:
        write_into_revision(lines)
    else:
        for line in lines:
            print("\t".join(line))


if __name__ == "__main__":
    main(sys.argv[1], "--write" in sys.argv[2:])
