"""`flavatix-db wheel`: a user's wheel from the database at head, drawn as SVG and PNG."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.image import imread
from PIL import Image

from flavatix_db import cli, wheel_chart
from tests.dbtools import execute, scalar

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALICE = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
BOB = uuid.UUID("00000000-0000-4000-8000-000000000b0b")
NOBODY = uuid.UUID("00000000-0000-4000-8000-000000000000")

# (text, type, category, subcategory, uses): the categories differ in size and order
# between the two users, and Alice has one the fixed palette does not know.
ALICE_ROWS = [
    ("cherry", "flavor", "Fruity", "Stone Fruit", 6),
    ("lemon zest", "aroma", "Fruity", "Citrus", 4),
    ("caramel", "flavor", "Sweet", "Caramel", 5),
    ("toasted oak", "aroma", "Woody", "Oak", 3),
    ("old campfire", "aroma", "Smoky Campfire", "Embers", 3),
    ("mystery", "flavor", None, None, 3),
    ("silky", "texture", "Texture", "Mouthfeel", 2),  # not in a combined wheel
]
BOB_ROWS = [
    ("mint", "aroma", "Herbal", "Fresh Herbs", 7),
    ("cedar", "aroma", "Woody", "Aromatic Wood", 5),
    ("plum", "flavor", "Fruity", "Stone Fruit", 2),
]


def add_descriptors(
    url: str, user: uuid.UUID, rows: list[tuple[str, str, str | None, str | None, int]]
) -> None:
    for text, kind, category, subcategory, uses in rows:
        for _ in range(uses):
            execute(
                url,
                "INSERT INTO public.flavor_descriptors (user_id, source_type, source_id, "
                "descriptor_text, descriptor_type, category, subcategory, intensity) "
                "VALUES (%s, 'quick_tasting', gen_random_uuid(), %s, %s, %s, %s, 3)",
                (str(user), text, kind, category, subcategory),
            )


@pytest.fixture
def wheel_db_url(head_db_url: str) -> str:
    add_descriptors(head_db_url, ALICE, ALICE_ROWS)
    add_descriptors(head_db_url, BOB, BOB_ROWS)
    execute(head_db_url, "SELECT public.refresh_descriptor_views()")
    return head_db_url


def draw(url: str, user: uuid.UUID | str, out: Path, *extra: str) -> int:
    return cli.main(["--url", url, "wheel", "--user", str(user), "--out", str(out), *extra])


def texts_of(svg: Path) -> list[str]:
    """The text of every <text> element (matplotlib keeps text as text in our SVGs)."""
    root = ET.parse(svg).getroot()
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def legend_colours(svg: Path) -> dict[str, str]:
    """Category name -> the fill of its patch in the legend, as shown to a reader."""
    root = ET.parse(svg).getroot()
    [legend] = [g for g in root.iter(f"{SVG}g") if g.get("id", "").startswith("legend")]
    fills = [
        style.split("fill:")[1].split(";")[0].strip()
        for path in legend.iter(f"{SVG}path")
        if "fill:" in (style := path.get("style", ""))
    ]
    # Entries read "Fruity  41.7%  (10)"; the first text is the legend's title.
    names = ["".join(node.itertext()).split("  ")[0] for node in legend.iter(f"{SVG}text")][1:]
    assert len(names) == len(fills), (names, fills)
    return dict(zip(names, fills, strict=True))


def wheel_fills(svg: Path) -> set[str]:
    """Fill colours of the wheel's wedges (everything outside the legend)."""
    root = ET.parse(svg).getroot()
    in_legend = {
        id(path)
        for g in root.iter(f"{SVG}g")
        if g.get("id", "").startswith("legend")
        for path in g.iter(f"{SVG}path")
    }
    return {
        style.split("fill:")[1].split(";")[0].strip()
        for path in root.iter(f"{SVG}path")
        if id(path) not in in_legend and "fill:" in (style := path.get("style", ""))
    }


def test_svg_labels_are_the_users_categories(wheel_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "alice.svg"
    assert draw(wheel_db_url, ALICE, out) == 0
    texts = texts_of(out)
    # The ring labels, exactly: every category of Alice's combined wheel, texture left out.
    expected = {"Fruity", "Sweet", "Woody", "Smoky Campfire", "Uncategorized"}
    assert expected <= set(texts)
    assert "Texture" not in " ".join(texts)
    assert {"Stone Fruit", "Caramel", "cherry", "caramel", "General"} <= set(texts)
    assert "24\ndescriptors" in "\n".join(texts)  # the centre: how many in all
    assert set(legend_colours(out)) == expected


def test_png_is_a_real_image(wheel_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "alice.png"
    assert draw(wheel_db_url, ALICE, out, "--type", "flavor") == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    pixels = imread(out)
    assert pixels.ndim == 3 and pixels.shape[0] > 400 and pixels.shape[1] > 400
    with Image.open(out) as image:
        image.verify()
    # Not a blank canvas: the wheel's colours are there.
    assert len({tuple(p) for p in pixels[::7, ::7].reshape(-1, pixels.shape[2]).tolist()}) > 20


def test_a_category_keeps_its_colour_across_wheels(wheel_db_url: str, tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice.svg", tmp_path / "bob.svg"
    assert draw(wheel_db_url, ALICE, alice) == 0
    assert draw(wheel_db_url, BOB, bob) == 0
    alice_colours, bob_colours = legend_colours(alice), legend_colours(bob)
    # Fruity is Alice's largest category and Bob's smallest: colour follows the name.
    assert next(iter(alice_colours)) == "Fruity" and list(bob_colours)[-1] == "Fruity"
    for shared in ("Fruity", "Woody"):
        assert alice_colours[shared] == bob_colours[shared] == wheel_chart.category_colour(shared)
    assert alice_colours["Uncategorized"] == "#9e9e9e"
    assert len(set(alice_colours.values())) == len(alice_colours)
    # The wedges use the legend's colours.
    assert set(alice_colours.values()) <= wheel_fills(alice)
    assert set(bob_colours.values()) <= wheel_fills(bob)


def test_colour_of_an_unknown_category_is_the_same_in_every_process() -> None:
    here = wheel_chart.category_colour("Smoky Campfire")
    elsewhere = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flavatix_db.wheel_chart import category_colour as c; print(c('Smoky Campfire'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    ).stdout.strip()
    assert here == elsewhere
    assert here.startswith("#") and len(here) == 7
    assert wheel_chart.category_colour(" fruity ") == wheel_chart.category_colour("Fruity")
    assert here != wheel_chart.category_colour("Smoky Campfires")


def test_user_without_descriptors_exits_1_and_writes_nothing(
    wheel_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nobody.png"
    assert draw(wheel_db_url, NOBODY, out) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"flavatix-db: user {NOBODY} has no aroma or flavor descriptors: no wheel drawn"
    assert not out.exists()
    # Bob has descriptors, but no metaphors.
    assert draw(wheel_db_url, BOB, out, "--type", "metaphor") == 1
    assert "has no metaphor descriptors" in capsys.readouterr().err
    assert not out.exists()
    assert scalar(wheel_db_url, "SELECT count(*) FROM public.flavor_wheels") == 0


def test_descriptors_newer_than_the_summaries_say_to_refresh(
    head_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_descriptors(head_db_url, ALICE, ALICE_ROWS[:1])  # no refresh since
    out = tmp_path / "alice.svg"
    assert draw(head_db_url, ALICE, out) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "newer than the last refresh" in err and "refresh_descriptor_views()" in err
    assert not out.exists()
    execute(head_db_url, "SELECT public.refresh_descriptor_views()")
    assert draw(head_db_url, ALICE, out) == 0
    assert "Fruity" in texts_of(out)


@pytest.mark.parametrize(
    ("user", "out_name", "extra", "message"),
    [
        ("not-a-uuid", "w.svg", [], "--user must be a UUID, not 'not-a-uuid'"),
        (str(ALICE), "w.svg", ["--type", "texture"], "--type must be one of combined, aroma"),
        (str(ALICE), "w.jpg", [], "--out must name a .svg or .png file"),
        (str(ALICE), "missing/w.png", [], "is not a folder this user can write to"),
        (str(ALICE), "taken.png", [], "cannot write"),
    ],
)
def test_bad_arguments_are_one_clear_line(
    wheel_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    user: str,
    out_name: str,
    extra: list[str],
    message: str,
) -> None:
    (tmp_path / "taken.png").mkdir()  # a folder where the file should go
    out = tmp_path / out_name
    assert draw(wheel_db_url, user, out, *extra) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("flavatix-db: ") and message in err
    assert {p.name for p in tmp_path.iterdir()} == {"taken.png"}
    assert not any((tmp_path / "taken.png").iterdir())


def test_labels_fit_their_wedges_or_are_left_out(tmp_path: Path) -> None:
    long_text = "crème brûlée with a very long tail of words"
    wheel = {
        "categories": [
            {
                "name": "Sweet",
                "count": 999,
                "percentage": 99.9,
                "subcategories": [
                    {
                        "name": "Custard",
                        "count": 999,
                        "descriptors": [
                            {"text": long_text, "count": 500, "avgIntensity": 3},
                            {"text": "vanilla", "count": 499, "avgIntensity": 3},
                        ],
                    }
                ],
            },
            {
                "name": "Sliver",
                "count": 1,
                "percentage": 0.1,
                "subcategories": [
                    {
                        "name": "Thin",
                        "count": 1,
                        "descriptors": [{"text": "hairline", "count": 1, "avgIntensity": 3}],
                    }
                ],
            },
        ],
        "totalDescriptors": 1000,
        "uniqueDescriptors": 3,
    }
    out = tmp_path / "synthetic.svg"
    out.write_bytes(wheel_chart.render(wheel, "svg", "synthetic"))
    texts = texts_of(out)
    assert {"Sweet", "Custard", "vanilla"} <= set(texts)
    [shortened] = [t for t in texts if t.endswith("…")]
    assert long_text.startswith(shortened[:-1]) and len(shortened) < len(long_text)
    # A 0.36° wedge holds no text; the legend still names its category.
    assert not {"Sliver", "Thin", "hairline"} & set(texts)
    assert "Sliver  0.1%  (1)" in texts
