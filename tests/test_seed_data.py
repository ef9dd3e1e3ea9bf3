"""The seed data generator (no database) and one COPY load into a baseline database."""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import time
import tomllib
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from flavatix_db import seed_data
from flavatix_db.seed_data import DescriptorRow, generate_descriptors

END = datetime(2025, 1, 1, tzinfo=UTC)
START = datetime(2022, 1, 1, tzinfo=UTC)
BIG = 200_000


def normalized(text: str) -> str:
    """Lower case, accents stripped (NFKD minus combining marks), trimmed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def rows_of(rows: int, seed: int = 42, end: datetime = END) -> list[DescriptorRow]:
    return list(generate_descriptors(rows, seed=seed, end=end))


@pytest.fixture(scope="module")
def big() -> list[DescriptorRow]:
    return rows_of(BIG)


def by_source(rows: Iterable[DescriptorRow]) -> dict[str, list[DescriptorRow]]:
    sources: dict[str, list[DescriptorRow]] = defaultdict(list)
    for row in rows:
        sources[row.source_id].append(row)
    return sources


# -- vocabulary ---------------------------------------------------------------


def test_vocabulary_is_large_distinct_and_categorized() -> None:
    vocabulary = seed_data.VOCABULARY
    assert len(vocabulary) >= 2_500
    norms = [normalized(concept.text) for concept in vocabulary]
    assert len(set(norms)) == len(norms), "two concepts share a normalized text"
    for concept in vocabulary:
        assert concept.text == " ".join(concept.text.split()) == concept.text.lower()
        assert concept.category in seed_data.CATEGORIES
        assert concept.subcategory
        assert concept.descriptor_type_hint in seed_data.DESCRIPTOR_TYPES
    assert 8 <= len(seed_data.CATEGORIES) <= 14
    subcategories = {(c.category, c.subcategory) for c in vocabulary}
    assert len(subcategories) >= 30
    texts = {concept.text for concept in vocabulary}
    for expected in (
        "dark cherry",
        "toasted oak",
        "candied orange peel",
        "silky",
        "oily",
        "campfire",
        "old library",
        "crème brûlée",
        "jalapeño",
        "café au lait",
        "rosé wine",
    ):
        assert expected in texts
    assert vocabulary[0].text == "cherry"
    assert seed_data.concept_rank(" Cherry ") == 0
    assert seed_data.concept_rank("no such flavor at all") is None


# -- determinism --------------------------------------------------------------


def test_same_arguments_give_the_same_rows() -> None:
    first = rows_of(3_000, seed=7)
    assert first == rows_of(3_000, seed=7)
    generator = seed_data.DescriptorGenerator(3_000, seed=7, end=END)
    assert list(generator) == list(generator) == first


def test_other_seed_or_end_gives_other_rows() -> None:
    first = rows_of(3_000, seed=7)
    other = rows_of(3_000, seed=8)
    assert {r.id for r in first}.isdisjoint({r.id for r in other})
    assert [r.descriptor_text for r in first] != [r.descriptor_text for r in other]
    shifted = rows_of(3_000, seed=7, end=END + timedelta(days=1))
    assert [r.created_at for r in shifted] != [r.created_at for r in first]


def test_generation_is_lazy() -> None:
    started = time.perf_counter()
    head = list(itertools.islice(generate_descriptors(10_000_000, end=END), 10))
    assert len(head) == 10
    assert time.perf_counter() - started < 5.0


def test_exact_row_count_and_unique_ids() -> None:
    for count in (0, 1, 4, 5, 16, 1_234):
        rows = rows_of(count)
        assert len(rows) == count
        assert len({r.id for r in rows}) == count


def test_ids_are_version_4_uuids(big: list[DescriptorRow]) -> None:
    for row in big[:2_000]:
        for text in (row.id, row.user_id, row.source_id):
            parsed = uuid.UUID(text)
            assert str(parsed) == text
            assert parsed.version == 4
            assert parsed.variant == uuid.RFC_4122
    assert len({r.id for r in big}) == len(big)


# -- users --------------------------------------------------------------------


def test_heaviest_user_share(big: list[DescriptorRow]) -> None:
    per_user = Counter(row.user_id for row in big)
    assert len(per_user) == seed_data.user_count(BIG) == BIG // 200
    [(top_user, top_rows)] = per_user.most_common(1)
    assert 0.01 <= top_rows / BIG <= 0.03
    rank = seed_data.heaviest_user_rank(BIG)
    assert top_user == str(seed_data.user_uuid(42, rank))


def test_median_user(big: list[DescriptorRow]) -> None:
    per_user = Counter(row.user_id for row in big)
    counts = sorted(per_user.values())
    realized_median = counts[len(counts) // 2]
    median_user = str(seed_data.user_uuid(42, seed_data.median_user_rank(BIG)))
    expected = seed_data.expected_user_rows(BIG, seed_data.median_user_rank(BIG))
    assert 0.5 * expected <= per_user[median_user] <= 2 * expected
    assert 0.5 * expected <= realized_median <= 2 * expected
    # Zipf-like: the median user is far below the mean of 200 rows per user.
    assert realized_median < 150


def test_user_model_at_ten_million_rows() -> None:
    rows = 10_000_000
    top = seed_data.expected_user_rows(rows, seed_data.heaviest_user_rank(rows))
    median = seed_data.expected_user_rows(rows, seed_data.median_user_rank(rows))
    assert 0.01 <= top / rows <= 0.03
    assert 12 <= median <= 100


def test_user_uuid_is_deterministic() -> None:
    assert seed_data.user_uuid(42, 3) == seed_data.user_uuid(42, 3)
    assert seed_data.user_uuid(42, 3) != seed_data.user_uuid(43, 3)
    assert seed_data.user_uuid(42, 3) != seed_data.user_uuid(42, 4)


# -- sources and values -------------------------------------------------------


def test_normalized_text_is_unique_within_a_source(big: list[DescriptorRow]) -> None:
    for source_id, rows in by_source(big).items():
        keys = [(normalized(r.descriptor_text), r.descriptor_type) for r in rows]
        assert len(keys) == len(set(keys)), source_id
        raw = [(r.source_type, r.descriptor_text, r.descriptor_type) for r in rows]
        assert len(raw) == len(set(raw)), source_id


def test_sources_are_coherent(big: list[DescriptorRow]) -> None:
    sources = by_source(big)
    assert len(sources) >= BIG // 15
    for rows in sources.values():
        assert 5 <= len(rows) <= 15
        first = rows[0]
        for row in rows:
            assert (row.user_id, row.source_type, row.item_name, row.item_category) == (
                first.user_id,
                first.source_type,
                first.item_name,
                first.item_category,
            )
        spread = max(r.created_at for r in rows) - min(r.created_at for r in rows)
        assert spread <= timedelta(minutes=5)


def test_values_are_allowed(big: list[DescriptorRow]) -> None:
    categories = set(seed_data.CATEGORIES)
    item_categories = {name for name, _weight in seed_data.ITEM_CATEGORIES}
    types: Counter[str] = Counter()
    null_category = 0
    null_intensity = 0
    for row in big:
        assert row.source_type in seed_data.SOURCE_TYPES
        assert row.descriptor_type in seed_data.DESCRIPTOR_TYPES
        types[row.descriptor_type] += 1
        assert row.descriptor_text.strip()
        if row.category is None:
            null_category += 1
            assert row.subcategory is None
        else:
            assert row.category in categories
        assert isinstance(row.confidence_score, Decimal)
        assert Decimal("0.50") <= row.confidence_score <= Decimal("1.00")
        assert row.confidence_score.as_tuple().exponent == -2
        if row.intensity is None:
            null_intensity += 1
        else:
            assert 1 <= row.intensity <= 5
        assert row.item_name
        assert row.item_category in item_categories
        assert START <= row.created_at < END
        assert row.updated_at == row.created_at
    assert 0.10 <= null_category / BIG <= 0.20
    assert 0.05 <= null_intensity / BIG <= 0.5
    assert (types["aroma"] + types["flavor"]) / BIG >= 0.8
    assert all(types[kind] > 0 for kind in seed_data.DESCRIPTOR_TYPES)
    assert len({row.item_category for row in big}) == len(item_categories)


def test_concepts_are_zipf_like(big: list[DescriptorRow]) -> None:
    uses = Counter(normalized(row.descriptor_text) for row in big)
    ranked = uses.most_common()
    assert ranked[0][0] == "cherry"
    assert ranked[0][1] / BIG >= 0.02
    assert len(uses) >= 2_000
    rare = sum(1 for _text, count in ranked if count <= 10)
    assert rare > len(ranked) / 2


def test_surface_variants_are_present(big: list[DescriptorRow]) -> None:
    canonical = {concept.text for concept in seed_data.VOCABULARY}
    known = {normalized(concept.text) for concept in seed_data.VOCABULARY}
    variant_rows = [row for row in big if row.descriptor_text not in canonical]
    assert 0.10 <= len(variant_rows) / BIG <= 0.20
    texts = [row.descriptor_text for row in variant_rows]
    assert any(text != text.lower() and text.strip() == text for text in texts)  # capitals
    assert any(text.isupper() for text in texts)  # shouting
    assert any(text != text.strip() for text in texts)  # stray spaces at the ends
    assert any("  " in text.strip() for text in texts)  # doubled inner spaces
    assert any(normalized(text) not in known for text in texts)  # typos
    plain = {row.descriptor_text for row in big}
    assert {"crème brûlée", "creme brulee", "jalapeño", "jalapeno"} <= plain


# -- COPY format --------------------------------------------------------------


def test_copy_line_escapes_text_format() -> None:
    row = DescriptorRow(
        id="00000000-0000-4000-8000-000000000001",
        user_id="00000000-0000-4000-8000-000000000002",
        source_type="quick_review",
        source_id="00000000-0000-4000-8000-000000000003",
        descriptor_text="back\\slash\ttab\nnew line",
        descriptor_type="aroma",
        category=None,
        subcategory=None,
        confidence_score=Decimal("0.75"),
        intensity=None,
        item_name="Crème d'Or",
        item_category="wine",
        created_at=END,
        updated_at=END,
    )
    line = seed_data.copy_line(row)
    assert line.endswith("\n")
    fields = line[:-1].split("\t")
    assert len(fields) == len(seed_data.COPY_COLUMNS)
    assert fields[4] == "back\\\\slash\\ttab\\nnew line"
    assert fields[6] == fields[7] == fields[9] == "\\N"
    assert fields[8] == "0.75"
    assert fields[10] == "Crème d'Or"
    assert datetime.fromisoformat(fields[12]) == END


# -- database -----------------------------------------------------------------

DB_ROWS = 20_000


def checksum(lines: Iterable[str]) -> str:
    return hashlib.md5("\n".join(lines).encode()).hexdigest()


def test_load_descriptors_db(baseline_db_url: str) -> None:
    psycopg2: Any = pytest.importorskip("psycopg2")
    url = baseline_db_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    conn = psycopg2.connect(url)
    try:
        summary = seed_data.load_descriptors(
            conn, DB_ROWS, seed=11, end=END, progress=False, batch_rows=7_000
        )
        assert summary.rows == DB_ROWS
        assert summary.users == seed_data.user_count(DB_ROWS)
        assert summary.concepts > 1_000
        assert summary.seconds > 0
        with conn.cursor() as cur:
            cur.execute(
                """
                SELECT count(*),
                       md5(string_agg(concat_ws('|', id, user_id, source_type, source_id,
                                                descriptor_text, descriptor_type,
                                                coalesce(category, '-'),
                                                coalesce(subcategory, '-'),
                                                confidence_score,
                                                coalesce(intensity::text, '-'),
                                                item_name, item_category,
                                                extract(epoch FROM created_at)::bigint,
                                                extract(epoch FROM updated_at)::bigint),
                                      E'\\n' ORDER BY id))
                FROM public.flavor_descriptors
                """
            )
            count, loaded = cur.fetchone()
    finally:
        conn.close()
    assert count == DB_ROWS
    expected = checksum(
        "|".join(
            (
                r.id,
                r.user_id,
                r.source_type,
                r.source_id,
                r.descriptor_text,
                r.descriptor_type,
                r.category or "-",
                r.subcategory or "-",
                str(r.confidence_score),
                "-" if r.intensity is None else str(r.intensity),
                r.item_name,
                r.item_category,
                str(int(r.created_at.timestamp())),
                str(int(r.updated_at.timestamp())),
            )
        )
        for r in sorted(generate_descriptors(DB_ROWS, seed=11, end=END), key=lambda r: r.id)
    )
    assert loaded == expected


# -- the package's data files -------------------------------------------------

# Digests of what the generator gave while the vocabulary and item names were still
# Python literals in seed_data.py: moving them into data files changed no row.
VOCABULARY_DIGEST = "ab1d7f87719ff7eca78c7fee98514dc2e863000deba47e07047a488dd95333a9"
ITEM_NAMES_DIGEST = "708ed2b87f0dc060a5379c415372884bf051692d00a7601281010926970d65f1"
ROWS_DIGESTS = {
    (42, 50_000): "2a01b3c8b17b51f7213994576a71e469db45a4db2b76b204b1248319b0db378f",
    (7, 5_000): "009d90a7d18014c570720ef270831ae7d78d7a09749aa5cf29a44a64cc5fb0f8",
}


def sha256_of_lines(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def test_vocabulary_and_item_names_are_as_before() -> None:
    vocabulary = sha256_of_lines(
        "|".join((c.text, c.category, c.subcategory, c.descriptor_type_hint))
        for c in seed_data.VOCABULARY
    )
    assert len(seed_data.VOCABULARY) == 8_279
    assert vocabulary == VOCABULARY_DIGEST
    pools = seed_data._item_pools()
    names = sha256_of_lines(
        f"{category}|{name}" for category, pool in pools.items() for name in pool
    )
    assert names == ITEM_NAMES_DIGEST


@pytest.mark.parametrize(("seed", "rows"), sorted(ROWS_DIGESTS))
def test_generated_rows_are_as_before(seed: int, rows: int) -> None:
    lines = map(seed_data.copy_line, generate_descriptors(rows, seed=seed, end=END))
    assert sha256_of_lines(lines) == ROWS_DIGESTS[seed, rows]


def test_data_files_ship_with_the_package() -> None:
    package = resources.files("flavatix_db")
    shipped = sorted(entry.name for entry in (package / "data").iterdir())
    assert shipped == ["items.json", "vocabulary.csv"]
    with open(Path(__file__).parents[1] / "pyproject.toml", "rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"]["flavatix_db"]
    for name in shipped:
        assert any(fnmatch.fnmatch(f"data/{name}", pattern) for pattern in patterns), name
    # seed_data.py holds the generator, not the data.
    source = (package / "seed_data.py").read_text(encoding="utf-8")
    assert "smoked meat" not in source and "Glenmorrach" not in source
