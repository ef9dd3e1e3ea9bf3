"""pytest-alembic's built-in tests, on the real server, with data in the tables.

Data is inserted before 001 so every later upgrade and downgrade meets a
populated table. Downgrades stop at the baseline: going below it refuses while
descriptors exist (tested in test_revision_000).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_alembic import Config as PytestAlembicConfig
from pytest_alembic.tests import (  # noqa: F401 (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from flavatix_db import migrations
from tests.dbtools import BASELINE_COLUMNS


def baseline_rows() -> list[dict[str, Any]]:
    user, source = uuid.uuid4(), uuid.uuid4()
    texts = ["Cherry", "  dark   cherry ", "Crème Brûlée", "TOASTED OAK", "silky"]
    return [
        {
            "id": uuid.uuid4(),
            "user_id": user,
            "source_type": "quick_review",
            "source_id": source,
            "descriptor_text": text,
            "descriptor_type": "aroma" if i % 2 else "flavor",
            "category": None if i == 0 else "Fruity",
            "intensity": 1 + i,
        }
        for i, text in enumerate(texts)
    ]


@pytest.fixture
def alembic_config() -> PytestAlembicConfig:
    return PytestAlembicConfig(
        alembic_config=migrations.alembic_config(),
        minimum_downgrade_revision="000",
        before_revision_data={
            "001": [{"__tablename__": "flavor_descriptors", **row} for row in baseline_rows()]
        },
    )


@pytest.fixture
def alembic_engine(empty_db_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(empty_db_url.replace("postgresql://", "postgresql+psycopg2://"))
    yield engine
    engine.dispose()


def test_data_survives_the_round_trip(alembic_runner: Any, alembic_engine: sa.Engine) -> None:
    alembic_runner.migrate_up_to("000")
    alembic_runner.insert_into("flavor_descriptors", baseline_rows())
    select = sa.text(f"SELECT {BASELINE_COLUMNS} FROM public.flavor_descriptors ORDER BY id")
    with alembic_engine.connect() as conn:
        at_000 = set(conn.execute(select).all())
    alembic_runner.migrate_up_to("heads")
    with alembic_engine.connect() as conn:
        at_head = set(conn.execute(select).all())
    # before_revision_data adds its own rows on the way up; ours are untouched.
    assert at_000 <= at_head
    alembic_runner.migrate_down_to("000")
    with alembic_engine.connect() as conn:
        assert set(conn.execute(select).all()) == at_head
