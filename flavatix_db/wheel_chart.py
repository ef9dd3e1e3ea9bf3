"""A user's flavor wheel drawn as a sunburst (SVG or PNG) from ``generate_wheel_data_optimized``.

Rings from the centre out: categories, their subcategories, and the top
descriptors of each subcategory (the wheel JSON lists at most ten per
subcategory; the rest of a subcategory's arc is one pale band). Angles are
proportional to counts. A category is drawn in the same colour on every wheel:
a fixed palette for the sample vocabulary's categories, a colour derived from a
hash of the name for any other, grey for 'Uncategorized'.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg2
import psycopg2.errors

__all__ = [
    "FORMATS",
    "WHEEL_TYPES",
    "DrawnWheel",
    "WheelError",
    "category_colour",
    "check_arguments",
    "render",
    "save_user_wheel",
]

#: The wheel types ``generate_wheel_data_optimized`` accepts.
WHEEL_TYPES: Final = ("combined", "aroma", "flavor", "metaphor")
#: File extensions the wheel can be written as.
FORMATS: Final = ("svg", "png")

UNCATEGORIZED: Final = "Uncategorized"
_GREY: Final = "#9e9e9e"
# The sample vocabulary's categories; lookups ignore case.
_PALETTE: Final[dict[str, str]] = {
    "fruity": "#c8283c",
    "floral": "#a25bbf",
    "sweet": "#f0a830",
    "spicy": "#e0642a",
    "roasted": "#6b4226",
    "woody": "#a87b4f",
    "nutty": "#cfae74",
    "earthy": "#7a8450",
    "herbal": "#3f9c5a",
    "dairy": "#eadcae",
    "texture": "#4a7fb5",
    "metaphor": "#2a9d9d",
    "uncategorized": _GREY,
}

# Ring radii in data units; the wheel's outer edge is 1.
_HOLE, _CATEGORY_OUT, _SUBCATEGORY_OUT, _OUTER = 0.2, 0.5, 0.75, 1.0
_WHEEL_INCHES: Final = 8.0
_AXIS_LIMIT: Final = 1.04
_POINTS_PER_UNIT: Final = _WHEEL_INCHES * 72 / (2 * _AXIS_LIMIT)
_CHAR_WIDTH: Final = 0.58  # average advance of a character, in ems
_MIN_FONT: Final = 5.5


class WheelError(Exception):
    """Why no wheel was drawn; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class DrawnWheel:
    """What ``save_user_wheel`` wrote."""

    path: Path
    categories: tuple[str, ...]
    total_descriptors: int


def _hash_unit(text: str) -> float:
    """A stable number in [0, 1) for a text (unlike hash(), the same in every process)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, c)) * 255):02x}" for c in rgb)


def _rgb(colour: str) -> tuple[float, float, float]:
    value = int(colour.lstrip("#"), 16)
    return ((value >> 16) / 255, ((value >> 8) & 0xFF) / 255, (value & 0xFF) / 255)


def _lighter(colour: str, amount: float) -> str:
    """``colour`` mixed with white; ``amount`` 0 keeps it, 1 gives white."""
    return _hex([c + (1.0 - c) * amount for c in _rgb(colour)])


def category_colour(name: str) -> str:
    """The colour of a category on every wheel, as #rrggbb."""
    key = " ".join(name.split()).casefold()
    if key in _PALETTE:
        return _PALETTE[key]
    hue = _hash_unit("category:" + key)
    return _hex(colorsys.hsv_to_rgb(hue, 0.55, 0.78))


def _subcategory_colour(category: str, subcategory: str) -> str:
    # Lighter shades of the category, each subcategory name always the same one.
    shade = 0.15 + 0.3 * _hash_unit(f"subcategory:{category}:{subcategory}".casefold())
    return _lighter(category_colour(category), shade)


def _text_colour(face: str) -> str:
    red, green, blue = _rgb(face)
    return "#ffffff" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "#222222"


def _fit(text: str, length: float, thickness: float, size: float) -> tuple[str, float] | None:
    """The text and font size that fit a box ``length`` by ``thickness`` points, if any."""
    size = min(size, thickness / 1.25)
    if size < _MIN_FONT:
        return None
    fitting = int(length / (_CHAR_WIDTH * size))
    if fitting >= len(text):
        return text, size
    smaller = length / (_CHAR_WIDTH * len(text))
    if smaller >= max(_MIN_FONT, size * 0.75):
        return text, smaller
    if fitting >= 5:
        return text[: fitting - 1].rstrip() + "…", size
    return None


@dataclass(frozen=True, slots=True)
class _Segment:
    label: str
    start: float  # fraction of the full turn, clockwise from the top
    end: float
    inner: float
    outer: float
    face: str


def _segments(categories: Sequence[Mapping[str, Any]]) -> list[_Segment]:
    total = sum(int(c["count"]) for c in categories)
    segments: list[_Segment] = []
    position = 0.0
    for category in categories:
        name = str(category["name"])
        share = int(category["count"]) / total
        segments.append(
            _Segment(name, position, position + share, _HOLE, _CATEGORY_OUT, category_colour(name))
        )
        sub_position = position
        for subcategory in category["subcategories"]:
            sub_name = str(subcategory["name"])
            sub_count = int(subcategory["count"])
            sub_share = sub_count / total
            face = _subcategory_colour(name, sub_name)
            segments.append(
                _Segment(
                    sub_name,
                    sub_position,
                    sub_position + sub_share,
                    _CATEGORY_OUT,
                    _SUBCATEGORY_OUT,
                    face,
                )
            )
            descriptor_position = sub_position
            listed = sum(int(d["count"]) for d in subcategory["descriptors"])
            # The listed descriptors never spill over their subcategory's arc.
            scale = min(1.0, sub_count / listed) if listed else 1.0
            for descriptor in subcategory["descriptors"]:
                share_of_turn = int(descriptor["count"]) * scale / total
                segments.append(
                    _Segment(
                        str(descriptor["text"]),
                        descriptor_position,
                        descriptor_position + share_of_turn,
                        _SUBCATEGORY_OUT,
                        _OUTER,
                        _lighter(face, 0.4),
                    )
                )
                descriptor_position += share_of_turn
            if descriptor_position < sub_position + sub_share - 1e-12:
                # Descriptors beyond the listed top ones: one pale, unlabelled arc.
                segments.append(
                    _Segment(
                        "",
                        descriptor_position,
                        sub_position + sub_share,
                        _SUBCATEGORY_OUT,
                        _OUTER,
                        _lighter(face, 0.75),
                    )
                )
            sub_position += sub_share
        position += share
    return segments


def _label_size(segment: _Segment) -> float:
    if segment.inner == _HOLE:
        return 10.0
    return 8.0 if segment.outer == _SUBCATEGORY_OUT else 7.0


def render(wheel: Mapping[str, Any], fmt: str, title: str) -> bytes:
    """The wheel as an SVG or PNG document."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Wedge

    categories: Sequence[Mapping[str, Any]] = wheel["categories"]
    figure = Figure(figsize=(_WHEEL_INCHES + 3.2, _WHEEL_INCHES + 0.6))
    axes = figure.add_axes(
        (0.0, 0.0, _WHEEL_INCHES / (_WHEEL_INCHES + 3.2), _WHEEL_INCHES / (_WHEEL_INCHES + 0.6))
    )
    axes.set_xlim(-_AXIS_LIMIT, _AXIS_LIMIT)
    axes.set_ylim(-_AXIS_LIMIT, _AXIS_LIMIT)
    axes.set_aspect("equal")
    axes.axis("off")
    for segment in _segments(categories):
        # Matplotlib angles run counter-clockwise from the right; the wheel runs
        # clockwise from the top.
        theta1, theta2 = 90 - 360 * segment.end, 90 - 360 * segment.start
        axes.add_patch(
            Wedge(
                (0.0, 0.0),
                segment.outer,
                theta1,
                theta2,
                width=segment.outer - segment.inner,
                facecolor=segment.face,
                edgecolor="white",
                linewidth=0.6,
            )
        )
        # Radial labels: the ring's depth is their length, the arc their height.
        arc = math.radians(theta2 - theta1) * (segment.inner + 0.02) * _POINTS_PER_UNIT
        depth = (segment.outer - segment.inner - 0.03) * _POINTS_PER_UNIT
        fitted = _fit(segment.label, depth, arc, _label_size(segment))
        if not segment.label or fitted is None:
            continue
        text, size = fitted
        middle = ((theta1 + theta2) / 2 + 180) % 360 - 180
        radius = (segment.inner + segment.outer) / 2
        # Along the radius, and never upside down.
        rotation = middle if abs(middle) <= 90 else middle - math.copysign(180, middle)
        axes.text(
            radius * math.cos(math.radians(middle)),
            radius * math.sin(math.radians(middle)),
            text,
            rotation=rotation,
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=size,
            color=_text_colour(segment.face),
        )
    axes.text(
        0,
        0,
        f"{wheel['totalDescriptors']}\ndescriptors",
        ha="center",
        va="center",
        fontsize=10,
        color="#222222",
    )
    figure.suptitle(title, x=0.02, y=0.985, ha="left", fontsize=13)
    handles = [Patch(facecolor=category_colour(str(c["name"]))) for c in categories]
    labels = [f"{c['name']}  {float(c['percentage']):.1f}%  ({c['count']})" for c in categories]
    figure.legend(
        handles,
        labels,
        loc="center right",
        frameon=False,
        fontsize=9,
        title="categories",
        title_fontsize=10,
    )
    buffer = io.BytesIO()
    # Text stays text in SVG, so labels can be searched and read by tools.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "flavatix-wheel"}):
        figure.savefig(buffer, format=fmt, dpi=110, metadata={"Date": None} if fmt == "svg" else {})
    return buffer.getvalue() if fmt == "svg" else _small_png(buffer.getvalue())


def _small_png(document: bytes) -> bytes:
    """The same picture in 256 colours: a quarter of the size, no visible difference."""
    from PIL import Image

    with Image.open(io.BytesIO(document)) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _fetch(url: str, user: uuid.UUID, wheel_type: str) -> tuple[dict[str, Any], bool]:
    """The wheel JSON, and whether the table holds rows of the user the wheel lacks."""
    kinds = ["aroma", "flavor"] if wheel_type == "combined" else [wheel_type]
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT public.generate_wheel_data_optimized(%s::uuid, %s)", (str(user), wheel_type)
            )
            row = cur.fetchone()
            wheel: dict[str, Any] = row[0] if row else {}
            unsummarized = False
            if not wheel.get("categories"):
                # The wheel is read from the summaries of the last refresh.
                cur.execute(
                    "SELECT EXISTS (SELECT FROM public.flavor_descriptors "
                    "WHERE user_id = %s::uuid AND descriptor_type = ANY (%s))",
                    (str(user), kinds),
                )
                unsummarized = bool((cur.fetchone() or (False,))[0])
    except psycopg2.errors.UndefinedFunction:
        raise WheelError(
            "the database has no generate_wheel_data_optimized(): "
            "upgrade it first (alembic upgrade head; the function comes with revision 003)"
        ) from None
    except psycopg2.Error as exc:
        if isinstance(exc, psycopg2.OperationalError):
            raise
        first = (exc.pgerror or str(exc)).strip().splitlines()[0]
        raise WheelError(f"generate_wheel_data_optimized failed: {first}") from None
    return wheel, unsummarized


def check_arguments(user: str, wheel_type: str, out: Path) -> tuple[uuid.UUID, str]:
    """The user id and file format, or ``WheelError`` saying which argument is wrong."""
    try:
        user_id = uuid.UUID(user)
    except ValueError:
        raise WheelError(f"--user must be a UUID, not {user!r}") from None
    if wheel_type not in WHEEL_TYPES:
        raise WheelError(f"--type must be one of {', '.join(WHEEL_TYPES)}, not {wheel_type!r}")
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise WheelError(f"--out must name a .svg or .png file, not {str(out)!r}")
    folder = out.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise WheelError(f"cannot write {out}: {folder} is not a folder this user can write to")
    return user_id, fmt


def save_user_wheel(url: str, user: str, wheel_type: str, out: Path) -> DrawnWheel:
    """Draw ``user``'s wheel of ``wheel_type`` into ``out`` (.svg or .png).

    Raises ``WheelError`` (and writes nothing) for a bad user id, wheel type or file
    name, a database without the wheel function, a user with no descriptors of the
    type, or a file that cannot be written.
    """
    user_id, fmt = check_arguments(user, wheel_type, out)
    wheel, unsummarized = _fetch(url, user_id, wheel_type)
    if not wheel.get("categories"):
        kinds = "aroma or flavor" if wheel_type == "combined" else wheel_type
        if unsummarized:
            raise WheelError(
                f"user {user_id} has {kinds} descriptors newer than the last refresh of the "
                "summaries the wheel is drawn from: run SELECT public.refresh_descriptor_views() "
                "(or wait for the scheduled refresh); no wheel drawn"
            )
        raise WheelError(f"user {user_id} has no {kinds} descriptors: no wheel drawn")
    title = f"{wheel_type.capitalize()} flavor wheel of user {user_id}"
    document = render(wheel, fmt, title)
    try:
        out.write_bytes(document)
    except OSError as exc:
        raise WheelError(f"cannot write {out}: {exc.strerror or exc}") from None
    names = tuple(str(c["name"]) for c in wheel["categories"])
    return DrawnWheel(out, names, int(wheel["totalDescriptors"]))
