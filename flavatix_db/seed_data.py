"""Realistic, deterministic flavor descriptor data and a fast COPY loader.

The generator fills ``public.flavor_descriptors`` (baseline revision 000) with rows
that look like what people type into a tasting app:

* a vocabulary of about eight thousand flavor concepts (``VOCABULARY``, read from the
  package's ``data/vocabulary.csv``), ordered from the most to the least popular and
  used with a Zipf-like frequency, so "cherry" is everywhere and most concepts are rare;
* items to taste, named from the templates and parts in ``data/items.json``;
* users with Zipf-like activity (``user_count``, ``user_uuid``, ``heaviest_user_rank``,
  ``median_user_rank``): the heaviest user writes about 2 % of all rows;
* sources (a tasting or a review) of 5 to 15 descriptors of one user, one item, one
  source type and (nearly) one timestamp;
* surface variants as people type them for about 13 % of rows: capitals, stray
  spaces, missing accents and one-letter typos. Within a source no two rows of the
  same type share a normalized text (lower case, no accents, trimmed, spaces
  collapsed), so the data also satisfies the unique index on the normalized form.

The same ``(rows, seed, end)`` always gives the same rows. ``load_descriptors``
streams the rows into PostgreSQL with ``COPY ... FROM STDIN`` in chunks, never
holding more than one line buffer in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import random
import string
import time
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Final, Literal, NamedTuple, Protocol

from tqdm import tqdm

__all__ = [
    "CATEGORIES",
    "COPY_COLUMNS",
    "DESCRIPTOR_TYPES",
    "ITEM_CATEGORIES",
    "SOURCE_TYPES",
    "VOCABULARY",
    "Concept",
    "DescriptorGenerator",
    "DescriptorRow",
    "LoadSummary",
    "concept_rank",
    "copy_line",
    "default_end",
    "expected_user_rows",
    "generate_descriptors",
    "heaviest_user_rank",
    "load_descriptors",
    "median_user_rank",
    "normalize_descriptor",
    "user_count",
    "user_uuid",
]

DescriptorType = Literal["aroma", "flavor", "texture", "metaphor"]
SourceType = Literal["quick_tasting", "quick_review", "prose_review"]

DESCRIPTOR_TYPES: Final[tuple[DescriptorType, ...]] = ("aroma", "flavor", "texture", "metaphor")
SOURCE_TYPES: Final[tuple[SourceType, ...]] = ("quick_tasting", "quick_review", "prose_review")

#: Columns written by ``load_descriptors``, in the order of ``DescriptorRow``.
COPY_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "user_id",
    "source_type",
    "source_id",
    "descriptor_text",
    "descriptor_type",
    "category",
    "subcategory",
    "confidence_score",
    "intensity",
    "item_name",
    "item_category",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Concept:
    """One flavor concept in its canonical spelling (lower case, single spaces)."""

    text: str
    category: str
    subcategory: str
    descriptor_type_hint: DescriptorType


# ---------------------------------------------------------------------------
# The package's data: data/vocabulary.csv and data/items.json
#
# vocabulary.csv has one concept a line, most popular first (line order is the
# popularity rank): canonical text, category, subcategory, and the descriptor
# type people most often file it under. items.json holds the item categories
# (share of sources, how much each concept category is favored, name templates)
# and the parts the templates are filled with.
# ---------------------------------------------------------------------------

_DATA: Final = resources.files("flavatix_db") / "data"
_VOCABULARY_COLUMNS: Final = ["text", "category", "subcategory", "type_hint"]


def normalize_descriptor(text: str) -> str:
    """Lower case, accents removed, trimmed and with whitespace runs collapsed.

    Mirrors the database's ``lower(unaccent(...))`` normalized form for the
    characters this module generates.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def _load_vocabulary() -> tuple[Concept, ...]:
    """Every concept of data/vocabulary.csv, checked, in file order."""
    source = _DATA / "vocabulary.csv"
    reader = csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline=""))
    if next(reader, None) != _VOCABULARY_COLUMNS:
        raise ValueError(f"{source.name}: the header must be {','.join(_VOCABULARY_COLUMNS)}")
    concepts: list[Concept] = []
    seen: set[str] = set()
    for line, fields in enumerate(reader, start=2):
        if len(fields) != len(_VOCABULARY_COLUMNS) or not all(fields):
            raise ValueError(f"{source.name} line {line}: expected 4 non-empty fields")
        text, category, subcategory, hint = fields
        if text != unicodedata.normalize("NFC", " ".join(text.split()).lower()):
            raise ValueError(f"{source.name} line {line}: text is not canonical: {text!r}")
        if hint not in DESCRIPTOR_TYPES:
            raise ValueError(f"{source.name} line {line}: unknown type {hint!r}")
        key = normalize_descriptor(text)
        if key in seen:
            raise ValueError(f"{source.name} line {line}: {text!r} repeats an earlier concept")
        seen.add(key)
        concepts.append(Concept(text, category, subcategory, hint))
    return tuple(concepts)


#: Every concept, most popular first (index = popularity rank).
VOCABULARY: Final[tuple[Concept, ...]] = _load_vocabulary()

#: Top-level taxonomy categories, in first-seen order.
CATEGORIES: Final[tuple[str, ...]] = tuple(dict.fromkeys(c.category for c in VOCABULARY))

_CONCEPT_RANK: Final[dict[str, int]] = {
    normalize_descriptor(c.text): rank for rank, c in enumerate(VOCABULARY)
}


def concept_rank(text: str) -> int | None:
    """Popularity rank (0 = most common) of the concept a text spells, if any."""
    return _CONCEPT_RANK.get(normalize_descriptor(text))


@dataclass(frozen=True, slots=True)
class _ItemData:
    categories: tuple[tuple[str, float], ...]
    affinity: dict[str, dict[str, float]]
    templates: dict[str, tuple[str, ...]]
    parts: dict[str, tuple[str, ...]]


def _load_items() -> _ItemData:
    """data/items.json, checked: every template names only parts that exist."""
    source = _DATA / "items.json"
    document: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    # Key order matters: the item name pools draw parts in this order.
    parts = {str(key): tuple(map(str, values)) for key, values in document["name_parts"].items()}
    categories: list[tuple[str, float]] = []
    affinity: dict[str, dict[str, float]] = {}
    templates: dict[str, tuple[str, ...]] = {}
    for entry in document["categories"]:
        name = str(entry["name"])
        categories.append((name, float(entry["share"])))
        affinity[name] = {str(k): float(v) for k, v in entry["affinity"].items()}
        templates[name] = tuple(map(str, entry["name_templates"]))
        if not templates[name]:
            raise ValueError(f"{source.name}: item category {name} has no name templates")
        for template in templates[name]:
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            if not fields <= parts.keys():
                raise ValueError(f"{source.name}: {template!r} needs a part that is not listed")
    return _ItemData(tuple(categories), affinity, templates, parts)


_ITEMS: Final = _load_items()

#: Item categories and their share of sources.
ITEM_CATEGORIES: Final[tuple[tuple[str, float], ...]] = _ITEMS.categories


@lru_cache(maxsize=1)
def _item_pools() -> dict[str, tuple[str, ...]]:
    """A fixed pool of plausible item names per item category."""
    rng = random.Random(7_031)
    parts = _ITEMS.parts
    pools: dict[str, tuple[str, ...]] = {}
    for category, _weight in ITEM_CATEGORIES:
        templates = _ITEMS.templates[category]
        names: dict[str, None] = {}
        attempts = 0
        while len(names) < 240 and attempts < 20_000:
            attempts += 1
            template = rng.choice(templates)
            values = {
                key: rng.choice(options)
                for key, options in parts.items()
                if "{" + key + "}" in template
            }
            names[template.format(**values)] = None
        pools[category] = tuple(names)
    return pools


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

_USER_EXPONENT: Final = 1.05
_HEAVIEST_SHARE: Final = 0.02
_ROWS_PER_USER: Final = 200


def user_count(rows: int) -> int:
    """Number of users a dataset of ``rows`` rows spreads over."""
    return max(1, rows // _ROWS_PER_USER)


def _approx_weight_sum(n: int, offset: float) -> float:
    # Euler-Maclaurin estimate of sum_{r=0}^{n-1} (r + offset) ** -s.
    s = _USER_EXPONENT
    a, b = offset, offset + n - 1
    integral = (math.pow(a, 1 - s) - math.pow(b, 1 - s)) / (s - 1)
    ends = (math.pow(a, -s) + math.pow(b, -s)) / 2
    slope = s / 12 * (math.pow(a, -s - 1) - math.pow(b, -s - 1))
    return integral + ends + slope


@lru_cache(maxsize=16)
def _user_offset(n: int) -> float:
    """Offset k of the weights (rank + k) ** -s that gives rank 0 a 2 % share."""
    if n * _HEAVIEST_SHARE <= 1.0:
        return 1e9  # too few users for a 2 % share: nearly uniform
    lo, hi = 1.0, 1e9
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        share = mid**-_USER_EXPONENT / _approx_weight_sum(n, mid)
        if share > _HEAVIEST_SHARE:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=4)
def _user_cumulative(n: int) -> tuple[float, ...]:
    """Normalized cumulative activity weights of users 0..n-1 (rank 0 heaviest)."""
    offset = _user_offset(n)
    weights = [(rank + offset) ** -_USER_EXPONENT for rank in range(n)]
    total = math.fsum(weights)
    return tuple(value / total for value in itertools.accumulate(weights))


def expected_user_rows(rows: int, rank: int) -> float:
    """Expected number of rows of the user with activity rank ``rank``."""
    cumulative = _user_cumulative(user_count(rows))
    if not 0 <= rank < len(cumulative):
        raise ValueError(f"rank {rank} out of range 0..{len(cumulative) - 1}")
    below = cumulative[rank - 1] if rank else 0.0
    return (cumulative[rank] - below) * rows


def heaviest_user_rank(rows: int) -> int:
    """Rank of the user with the most rows (always 0)."""
    del rows
    return 0


def median_user_rank(rows: int) -> int:
    """Rank of the median user by activity."""
    return user_count(rows) // 2


def user_uuid(seed: int, rank: int) -> uuid.UUID:
    """Deterministic id of the user with activity ``rank`` (0 = heaviest) for ``seed``."""
    digest = hashlib.blake2b(f"flavatix-user:{seed}:{rank}".encode(), digest_size=16).digest()
    return uuid.UUID(bytes=digest, version=4)


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


class DescriptorRow(NamedTuple):
    """One generated row, fields in ``COPY_COLUMNS`` order (uuids as text)."""

    id: str
    user_id: str
    source_type: SourceType
    source_id: str
    descriptor_text: str
    descriptor_type: DescriptorType
    category: str | None
    subcategory: str | None
    confidence_score: Decimal
    intensity: int | None
    item_name: str
    item_category: str
    created_at: datetime
    updated_at: datetime


def default_end() -> datetime:
    """Start of the current UTC day, the default end of the generated time span."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _months_before(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4: Final = (4 << 76) | (0x8000 << 48)


def _uuid4_text(bits: int) -> str:
    """Text of ``uuid.UUID(int=bits, version=4)``, without building the object."""
    h = format((bits & _UUID_CLEAR) | _UUID_V4, "032x")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _lookup(weighted: Sequence[tuple[Any, float]], size: int) -> list[Any]:
    """A table of ``size`` entries where each value fills its share of slots."""
    total = sum(weight for _value, weight in weighted)
    table: list[Any] = []
    acc = 0.0
    for value, weight in weighted:
        acc += weight
        table.extend([value] * (round(acc / total * size) - len(table)))
    return table


_LUT_SIZE: Final = 1024

_TYPE_MIX: Final[dict[DescriptorType, tuple[tuple[DescriptorType, float], ...]]] = {
    "aroma": (("aroma", 0.6), ("flavor", 0.36), ("metaphor", 0.04)),
    "flavor": (("flavor", 0.64), ("aroma", 0.35), ("texture", 0.01)),
    "texture": (("texture", 0.9), ("flavor", 0.1)),
    "metaphor": (("metaphor", 0.86), ("aroma", 0.14)),
}
_TYPE_LUT: Final[dict[DescriptorType, list[DescriptorType]]] = {
    hint: _lookup(mix, _LUT_SIZE) for hint, mix in _TYPE_MIX.items()
}

_CONFIDENCE_LUT: Final[list[Decimal]] = _lookup(
    [(Decimal(f"{cents / 100:.2f}"), 1.0 + (cents - 50) / 12) for cents in range(50, 101)],
    _LUT_SIZE,
)
_INTENSITY_LUT: Final[dict[SourceType, list[int | None]]] = {
    "quick_tasting": _lookup([(None, 8), (1, 5), (2, 17), (3, 33), (4, 26), (5, 11)], _LUT_SIZE),
    "quick_review": _lookup([(None, 25), (1, 4), (2, 13), (3, 27), (4, 22), (5, 9)], _LUT_SIZE),
    "prose_review": _lookup([(None, 60), (1, 3), (2, 7), (3, 14), (4, 11), (5, 5)], _LUT_SIZE),
}
_SOURCE_LUT: Final[list[SourceType]] = _lookup(
    [("quick_tasting", 0.62), ("quick_review", 0.23), ("prose_review", 0.15)], _LUT_SIZE
)
_SIZE_LUT: Final[dict[SourceType, list[int]]] = {
    "quick_tasting": _lookup(
        [
            (5, 14),
            (6, 16),
            (7, 16),
            (8, 14),
            (9, 11),
            (10, 9),
            (11, 7),
            (12, 5),
            (13, 4),
            (14, 2),
            (15, 2),
        ],
        _LUT_SIZE,
    ),
    "quick_review": _lookup(
        [
            (5, 10),
            (6, 12),
            (7, 14),
            (8, 14),
            (9, 12),
            (10, 11),
            (11, 9),
            (12, 7),
            (13, 5),
            (14, 3),
            (15, 3),
        ],
        _LUT_SIZE,
    ),
    "prose_review": _lookup(
        [
            (5, 3),
            (6, 5),
            (7, 7),
            (8, 9),
            (9, 11),
            (10, 12),
            (11, 12),
            (12, 12),
            (13, 11),
            (14, 9),
            (15, 9),
        ],
        _LUT_SIZE,
    ),
}

_CONCEPT_EXPONENT: Final = 1.0
_CONCEPT_OFFSET: Final = 2.0
_NULL_CATEGORY_SHARE: Final = 0.15
_NULL_SUBCATEGORY_SHARE: Final = 0.05  # on top, among rows that keep their category
_VARIANT_SHARE: Final = 0.12  # case, spacing or typo
_UNACCENTED_SHARE: Final = 0.4  # of rows whose concept has accents
_FAVORITE_SHARE: Final = 0.55  # sources about the user's favorite item category
_MONTHS: Final = 36
_MIN_SOURCE_SIZE: Final = 5
_MAX_SOURCE_SIZE: Final = 15


@lru_cache(maxsize=1)
def _concept_tables() -> tuple[dict[str, list[float]], list[str], list[bool]]:
    """Per item category cumulative concept weights, normalized texts, accent flags."""
    base = [(rank + _CONCEPT_OFFSET) ** -_CONCEPT_EXPONENT for rank in range(len(VOCABULARY))]
    tables: dict[str, list[float]] = {}
    for item_category, _weight in ITEM_CATEGORIES:
        affinity = _ITEMS.affinity[item_category]
        weights = (w * affinity.get(c.category, 1.0) for w, c in zip(base, VOCABULARY, strict=True))
        tables[item_category] = list(itertools.accumulate(weights))
    norms = [normalize_descriptor(c.text) for c in VOCABULARY]
    accented = [not c.text.isascii() for c in VOCABULARY]
    return tables, norms, accented


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NEIGHBORS: Final[dict[str, str]] = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}


def _typo(text: str, rng: random.Random) -> str:
    """One slip of the finger: a dropped, swapped, doubled or neighboring letter."""
    letters = [i for i, ch in enumerate(text) if "a" <= ch <= "z"]
    if len(letters) < 4:
        return text
    doubled = [i for i in letters[1:] if text[i - 1] == text[i]]
    roll = rng.random()
    if doubled and roll < 0.4:
        i = rng.choice(doubled)
        return text[:i] + text[i + 1 :]
    i = rng.choice(letters[1:])
    if roll < 0.55:
        return text[:i] + text[i + 1 :]
    if roll < 0.8:
        return text[:i] + rng.choice(_NEIGHBORS[text[i]]) + text[i + 1 :]
    if roll < 0.92 and "a" <= text[i - 1] <= "z":
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _recase(text: str, roll: float) -> str:
    if roll < 0.6:
        return text[:1].upper() + text[1:]
    if roll < 0.85:
        return text.title()
    return text.upper()


def _respace(text: str, roll: float) -> str:
    if roll < 0.3:
        return " " + text
    if roll < 0.6:
        return text + " "
    if roll < 0.85 and " " in text:
        return text.replace(" ", "  ", 1) + (" " if roll < 0.7 else "")
    return "  " + text + " "


@dataclass(slots=True)
class _Usage:
    users: set[int] = field(default_factory=set)
    concepts: set[int] = field(default_factory=set)


class DescriptorGenerator:
    """Iterable over ``rows`` generated rows; records which users and concepts it used.

    Iterating twice gives the same rows. ``users_used`` and ``concepts_used`` hold
    the activity ranks and vocabulary indexes seen by the latest iteration so far.
    """

    def __init__(self, rows: int, seed: int = 42, end: datetime | None = None) -> None:
        if rows < 0:
            raise ValueError("rows must not be negative")
        if end is None:
            end = default_end()
        elif end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        self.rows = rows
        self.seed = seed
        self.end = end
        self.start = _months_before(end, _MONTHS)
        self._usage = _Usage()

    @property
    def users_used(self) -> set[int]:
        return self._usage.users

    @property
    def concepts_used(self) -> set[int]:
        return self._usage.concepts

    def __iter__(self) -> Iterator[DescriptorRow]:
        self._usage = _Usage()
        return self._generate(self._usage)

    def _generate(self, usage: _Usage) -> Iterator[DescriptorRow]:
        rng = random.Random(self.seed)
        rand = rng.random
        bits = rng.getrandbits
        choices = rng.choices

        n_users = user_count(self.rows)
        user_cum = _user_cumulative(n_users)
        user_ids = [str(user_uuid(self.seed, rank)) for rank in range(n_users)]
        item_lut: list[str] = _lookup(ITEM_CATEGORIES, _LUT_SIZE)
        favorites = random.Random(f"flavatix-favorites:{self.seed}")
        user_favorite = [favorites.choice(item_lut) for _ in range(n_users)]
        pools = _item_pools()
        pool_cum = {
            name: list(itertools.accumulate((r + 3.0) ** -0.9 for r in range(len(pool))))
            for name, pool in pools.items()
        }
        concept_cum, norms, accented = _concept_tables()
        vocabulary = VOCABULARY
        n_concepts = len(vocabulary)
        type_lut = _TYPE_LUT
        confidence_lut = _CONFIDENCE_LUT
        intensity_lut = _INTENSITY_LUT
        lut_bits = _LUT_SIZE.bit_length() - 1
        lut_mask = _LUT_SIZE - 1

        start = self.start
        span = (self.end - start).total_seconds() - 3_600.0
        # A Weyl sequence over the users' cumulative activity: every user gets very
        # nearly their expected number of sources, so rank 0 really is the heaviest.
        golden = (math.sqrt(5.0) - 1.0) / 2.0
        phase = rand()

        remaining = self.rows
        source_index = 0
        while remaining > 0:
            user_rank = bisect_right(user_cum, (phase + source_index * golden) % 1.0)
            if user_rank >= n_users:
                user_rank = n_users - 1
            source_index += 1
            usage.users.add(user_rank)
            user_id = user_ids[user_rank]
            source_type = _SOURCE_LUT[bits(lut_bits)]
            size = _SIZE_LUT[source_type][bits(lut_bits)]
            if remaining - size < _MIN_SOURCE_SIZE:
                # Keep every source, the last one too, at 5..15 rows when possible.
                size = remaining if remaining <= _MAX_SOURCE_SIZE else remaining - _MIN_SOURCE_SIZE
            remaining -= size
            item_category = (
                user_favorite[user_rank] if rand() < _FAVORITE_SHARE else item_lut[bits(lut_bits)]
            )
            pool = pools[item_category]
            cum = pool_cum[item_category]
            item_name = pool[bisect_right(cum, rand() * cum[-1])]
            source_id = _uuid4_text(bits(128))
            # The app grew: later months see more tastings than early ones.
            u = rand()
            position = u if rand() < 0.3 else math.sqrt(u)
            moment = start + timedelta(seconds=int(position * span))
            intensities = intensity_lut[source_type]

            concept_weights = concept_cum[item_category]
            picked: dict[int, None] = {}
            while len(picked) < size:
                for index in choices(range(n_concepts), cum_weights=concept_weights, k=size + 3):
                    picked[index] = None
                    if len(picked) == size:
                        break

            taken: set[str] | None = None
            for concept_index in picked:
                usage.concepts.add(concept_index)
                concept = vocabulary[concept_index]
                text = concept.text
                if accented[concept_index] and rand() < _UNACCENTED_SHARE:
                    text = _strip_accents(text)
                roll = rand()
                if roll < _VARIANT_SHARE:
                    kind = roll / _VARIANT_SHARE
                    if kind < 0.45:
                        text = _recase(text, rand())
                    elif kind < 0.7:
                        text = _respace(text, rand())
                    elif kind < 0.9:
                        typo = _typo(text, rng)
                        if taken is None:
                            taken = {norms[i] for i in picked}
                        key = normalize_descriptor(typo)
                        if key and key not in taken:
                            taken.add(key)
                            text = typo
                    else:
                        text = _respace(_recase(text, rand()), rand())
                packed = bits(40)
                descriptor_type = type_lut[concept.descriptor_type_hint][packed & lut_mask]
                confidence = confidence_lut[(packed >> 10) & lut_mask]
                intensity = intensities[(packed >> 20) & lut_mask]
                null_roll = ((packed >> 30) & lut_mask) / _LUT_SIZE
                if null_roll < _NULL_CATEGORY_SHARE:
                    category = subcategory = None
                else:
                    category = concept.category
                    subcategory = (
                        None
                        if null_roll < _NULL_CATEGORY_SHARE + _NULL_SUBCATEGORY_SHARE
                        else concept.subcategory
                    )
                moment += timedelta(seconds=1 + (packed >> 36))
                yield DescriptorRow(
                    _uuid4_text(bits(128)),
                    user_id,
                    source_type,
                    source_id,
                    text,
                    descriptor_type,
                    category,
                    subcategory,
                    confidence,
                    intensity,
                    item_name,
                    item_category,
                    moment,
                    moment,
                )


def generate_descriptors(
    rows: int, seed: int = 42, end: datetime | None = None
) -> Iterator[DescriptorRow]:
    """Lazily generate ``rows`` rows; the same arguments always give the same rows."""
    return iter(DescriptorGenerator(rows, seed, end))


# ---------------------------------------------------------------------------
# COPY loading
# ---------------------------------------------------------------------------

_COPY_ESCAPES: Final = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
)
_NULL: Final = "\\N"


def _copy_text(value: str | None) -> str:
    if value is None:
        return _NULL
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_COPY_ESCAPES)


def copy_line(row: DescriptorRow) -> str:
    """One line of PostgreSQL COPY text format (with trailing newline) for ``row``."""
    created = row.created_at.isoformat()
    updated = created if row.updated_at == row.created_at else row.updated_at.isoformat()
    return (
        "\t".join(
            (
                row.id,
                row.user_id,
                row.source_type,
                row.source_id,
                _copy_text(row.descriptor_text),
                row.descriptor_type,
                _copy_text(row.category),
                _copy_text(row.subcategory),
                str(row.confidence_score),
                _NULL if row.intensity is None else str(row.intensity),
                _copy_text(row.item_name),
                _copy_text(row.item_category),
                created,
                updated,
            )
        )
        + "\n"
    )


class _LineReader:
    """File-like object that hands COPY lines to psycopg2 in UTF-8 blocks."""

    def __init__(self, lines: Iterator[str], on_lines: Callable[[int], object]) -> None:
        self._lines = lines
        self._on_lines = on_lines
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        limit = size if size > 0 else 1 << 20
        parts: list[str] = []
        length = 0
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if length >= limit:
                break
        if parts:
            self.count += len(parts)
            self._on_lines(len(parts))
        return "".join(parts).encode()

    def readline(self, size: int = -1) -> bytes:
        del size
        line = next(self._lines, "")
        if line:
            self.count += 1
            self._on_lines(1)
        return line.encode()


class _Cursor(Protocol):
    def execute(self, query: str) -> Any: ...

    def copy_expert(self, sql: str, file: Any, size: int = ...) -> Any: ...

    def close(self) -> Any: ...


class _Connection(Protocol):
    def cursor(self) -> Any: ...

    def commit(self) -> Any: ...

    def rollback(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What ``load_descriptors`` did."""

    rows: int
    users: int
    concepts: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


_COPY_SQL: Final = (
    f"COPY public.flavor_descriptors ({', '.join(COPY_COLUMNS)}) "
    "FROM STDIN WITH (FORMAT text, ENCODING 'UTF8')"
)
_COPY_BLOCK: Final = 1 << 17


def load_descriptors(
    conn: _Connection,
    rows: int,
    seed: int = 42,
    end: datetime | None = None,
    progress: bool = True,
    batch_rows: int = 50_000,
) -> LoadSummary:
    """Generate ``rows`` rows and COPY them into ``public.flavor_descriptors``.

    ``conn`` is a psycopg2 connection. Rows go in chunks of ``batch_rows``, one
    ``COPY`` and one commit per chunk, so a failure keeps the chunks before it.
    The table is analyzed at the end. A progress bar is shown when ``progress``.
    """
    if batch_rows <= 0:
        raise ValueError("batch_rows must be positive")
    started = time.perf_counter()
    generator = DescriptorGenerator(rows, seed, end)
    lines = map(copy_line, generator)
    loaded = 0
    with tqdm(
        total=rows,
        unit="row",
        unit_scale=True,
        desc="flavor_descriptors",
        disable=not progress,
    ) as bar:
        cursor: _Cursor = conn.cursor()
        try:
            while loaded < rows:
                reader = _LineReader(itertools.islice(lines, batch_rows), bar.update)
                cursor.copy_expert(_COPY_SQL, reader, size=_COPY_BLOCK)
                conn.commit()
                if reader.count == 0:
                    break
                loaded += reader.count
            cursor.execute("ANALYZE public.flavor_descriptors")
            conn.commit()
        except BaseException:
            conn.rollback()  # the chunks committed so far stay
            raise
        finally:
            cursor.close()
    return LoadSummary(
        rows=loaded,
        users=len(generator.users_used),
        concepts=len(generator.concepts_used),
        seconds=time.perf_counter() - started,
    )
