"""Realistic, deterministic flavor descriptor data and a fast COPY loader.

The generator fills ``public.flavor_descriptors`` (baseline revision 000) with rows
that look like what people type into a tasting app:

* a vocabulary of about eight thousand flavor concepts (``VOCABULARY``), ordered from the
  most to the least popular and used with a Zipf-like frequency, so "cherry" is
  everywhere and most concepts are rare;
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

import hashlib
import itertools
import math
import random
import time
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
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
# Vocabulary
#
# Each group is (category, subcategory, type hint, bases, forms). Bases are comma
# separated; forms are "|" separated templates where "{}" stands for the base.
# Every base is combined with every form of its group; a combination that would
# repeat a word ("dried dried fig") is skipped, and the first group to produce a
# text (compared in normalized form) owns it.
# ---------------------------------------------------------------------------

_Group = tuple[str, str, DescriptorType, str, str]

_SINGLE: Final = "{}"

_GROUPS: Final[tuple[_Group, ...]] = (
    # Fruity ---------------------------------------------------------------
    (
        "Fruity",
        "Citrus",
        "flavor",
        "lemon, lime, orange, grapefruit, pink grapefruit, blood orange, tangerine, mandarin,"
        " clementine, yuzu, bergamot, kumquat, pomelo, citron, key lime, meyer lemon,"
        " seville orange, satsuma, calamansi",
        "{} | {} zest | {} peel | candied {} peel | dried {} peel | {} pith | {} oil"
        " | {} marmalade | {} curd | fresh {} | {} juice | {} sherbet | {} rind",
    ),
    (
        "Fruity",
        "Citrus",
        "flavor",
        "lemon, lime, orange, grapefruit",
        "preserved {} | {} soda | {} cake | {} drizzle | {} meringue | {} candy | bitter {}"
        " | zesty {} | squeezed {} | {} twist | {} cordial | {} tart | {} sorbet",
    ),
    (
        "Fruity",
        "Berry",
        "flavor",
        "strawberry, raspberry, blackberry, blueberry, cranberry, red currant, blackcurrant,"
        " white currant, gooseberry, mulberry, boysenberry, loganberry, elderberry,"
        " lingonberry, cloudberry, huckleberry, bilberry, black raspberry, marionberry,"
        " goji berry, dewberry, wild strawberry",
        "{} | ripe {} | wild {} | {} jam | {} compote | stewed {} | dried {} | fresh {}"
        " | crushed {} | {} coulis | {} pie | tart {} | {} purée",
    ),
    (
        "Fruity",
        "Berry",
        "aroma",
        "blackcurrant, red currant, raspberry, strawberry, blackberry",
        "{} leaf | {} bud | {} cordial | {} candy | {} yogurt | {} ice cream | {} preserves"
        " | {} syrup | {} sorbet | {} liqueur | {} jelly | sun-warmed {} | baked {}",
    ),
    (
        "Fruity",
        "Stone Fruit",
        "flavor",
        "cherry, black cherry, red cherry, sour cherry, morello cherry, bing cherry,"
        " rainier cherry, peach, white peach, yellow peach, apricot, plum, black plum,"
        " red plum, damson, nectarine, mirabelle, greengage, yellow plum, sloe",
        "{} | ripe {} | dried {} | stewed {} | {} jam | {} compote | baked {} | candied {}"
        " | {} skin | {} pit | {} brandy | {} pie | poached {} | overripe {} | {} purée",
    ),
    (
        "Fruity",
        "Stone Fruit",
        "flavor",
        "cherry, plum, cherries, plums",
        "dark {} | black {} | red {} | jammy {} | brandied {}",
    ),
    (
        "Fruity",
        "Stone Fruit",
        "flavor",
        "cherry, peach, apricot, plum",
        "{} cobbler | fresh {} | {} syrup | {} tart | {} liqueur | {} preserves | roasted {}",
    ),
    (
        "Fruity",
        "Stone Fruit",
        "flavor",
        "cherry",
        "{} cola | {} lozenge | {} cough drop | {} clafoutis | {} danish | {} blossom honey"
        " | maraschino {} | glacé {} | cocktail {} | {} stone | {} kirsch",
    ),
    (
        "Fruity",
        "Orchard Fruit",
        "flavor",
        "apple, green apple, red apple, yellow apple, crab apple, pear, asian pear,"
        " williams pear, quince, cider apple, baking apple",
        "{} | ripe {} | baked {} | stewed {} | poached {} | {} sauce | {} skin | {} peel"
        " | dried {} | {} pie | {} crumble | {} juice | bruised {} | {} tart"
        " | caramelized {} | crisp {} | {} cider | {} brandy",
    ),
    (
        "Fruity",
        "Orchard Fruit",
        "flavor",
        "apple, green apple, pear, quince",
        "candied {} | {} butter | fresh {} | {} compote | {} strudel | {} jelly | cooked {}"
        " | {} chips",
    ),
    (
        "Fruity",
        "Tropical",
        "flavor",
        "pineapple, mango, papaya, passion fruit, guava, lychee, banana, coconut, kiwi,"
        " dragon fruit, star fruit, jackfruit, soursop, rambutan, persimmon, pomegranate,"
        " açaí, longan, mangosteen, plantain, tamarind, feijoa, cherimoya, durian",
        "{} | ripe {} | dried {} | {} juice | overripe {} | candied {} | {} purée | fresh {}",
    ),
    (
        "Fruity",
        "Tropical",
        "flavor",
        "pineapple, mango, papaya, passion fruit, guava, coconut, banana, lychee",
        "grilled {} | {} sorbet | roasted {} | {} nectar | caramelized {} | {} syrup | {} jam",
    ),
    (
        "Fruity",
        "Tropical",
        "flavor",
        "banana, mango, papaya, coconut, plantain",
        "green {}",
    ),
    (
        "Fruity",
        "Tropical",
        "flavor",
        "banana",
        "{} bread | {} split | {} chips | {} peel | {} candy | {} cream pie | {} foster"
        " | flambéed {} | {} pudding | {} milkshake | {} runts | {} leaf",
    ),
    (
        "Fruity",
        "Dried Fruit",
        "flavor",
        "raisin, sultana, golden raisin, prune, date, fig, currant, medjool date, black fig,"
        " mission fig",
        "{} | stewed {} | {} paste | rum-soaked {} | sherry-soaked {} | {} jam | plump {}"
        " | sticky {} | {} compote | {} syrup | brandied {} | {} chutney | {} bread"
        " | {} pudding | chopped {}",
    ),
    (
        "Fruity",
        "Dried Fruit",
        "flavor",
        "dried fruit, candied fruit, candied peel, mixed peel, fruit leather, fruitcake,"
        " christmas cake, rum raisin, trail mix, raisin bread, fig newton, date loaf,"
        " sticky date, fruit mince, dried mango, dried pineapple, dried banana chips,"
        " sun-dried raisin, fruity, fresh fruit, ripe fruit, fruit forward",
        _SINGLE,
    ),
    (
        "Fruity",
        "Vinous",
        "flavor",
        "grape, red grape, white grape, green grape, concord grape, muscat grape, grape skin,"
        " grape must, must, verjus, rosé wine, dry rosé, sparkling rosé, red wine, white wine,"
        " port, ruby port,"
        " tawny port, sherry, oloroso sherry, fino sherry, amontillado, manzanilla,"
        " pedro ximénez, cream sherry, madeira, marsala, vermouth, sangria, mulled wine,"
        " sweet wine, sauternes, ice wine, champagne, sparkling wine, moscato, brandy,"
        " cognac, armagnac, calvados, grappa, rum, dark rum, bourbon, rye whiskey, kirsch,"
        " slivovitz, eau de vie, crème de cassis, crème de mûre, wine gums, grape juice,"
        " grape soda, grape jelly, grape candy, wine-soaked fruit, sherried fruit",
        _SINGLE,
    ),
    (
        "Fruity",
        "Melon",
        "flavor",
        "melon, cantaloupe, honeydew, watermelon, galia melon, muskmelon, casaba melon",
        "{} | ripe {} | {} rind | fresh {} | {} juice | {} sorbet | {} candy | chilled {}"
        " | {} skin",
    ),
    (
        "Fruity",
        "Mixed Fruit",
        "flavor",
        "red fruit, black fruit, dark fruit, stone fruit, tropical fruit, orchard fruit,"
        " citrus fruit, summer fruit, fruit salad, fruit punch, mixed berries, forest fruits,"
        " red berries, black berries, wild berries, tutti frutti, fruit cocktail, fruit compote,"
        " citrus, fruit",
        "{} | ripe {} | jammy {} | stewed {} | fresh {} | baked {} | bright {} | juicy {}"
        " | concentrated {} | cooked {} | candied {} | dried {} | overripe {} | crunchy {}",
    ),
    # Floral ---------------------------------------------------------------
    (
        "Floral",
        "Blossom",
        "aroma",
        "orange blossom, apple blossom, cherry blossom, lemon blossom, peach blossom,"
        " almond blossom, elderflower, acacia, linden, hawthorn, honeysuckle, jasmine, neroli,"
        " lime blossom, plum blossom, osmanthus, magnolia, wisteria, gardenia, tuberose,"
        " frangipani, ylang-ylang, lilac, orchid, lotus, heather, clover, dandelion,"
        " meadowsweet, gorse, chamomile flower, citrus blossom",
        "{} | dried {} | fresh {} | wilted {} | wild {} | {} honey | {} tea | {} petals",
    ),
    (
        "Floral",
        "Perfumed",
        "aroma",
        "rose, violet, lavender, iris, geranium, peony, lily, lily of the valley, freesia,"
        " carnation, hibiscus, marigold, chrysanthemum, sweet pea, hyacinth, narcissus,"
        " daffodil, cornflower, rose hip, red rose, white rose, tea rose, wild rose, damask rose,"
        " night-blooming jasmine, sweet violet, english lavender",
        "{} | dried {} | {} petals | fresh {} | crushed {} | {} perfume | {} soap",
    ),
    (
        "Floral",
        "Perfumed",
        "aroma",
        "rose, violet, lavender, elderflower, hibiscus, orange blossom, jasmine",
        "{} syrup | {} cordial | candied {} | {} honey | {} tea | faint {} | {} liqueur"
        " | {} water | {} jam | {} cream | {} macaron | {} lemonade",
    ),
    (
        "Floral",
        "Perfumed",
        "aroma",
        "floral, flowers, rose water, orange blossom water, orange flower water, potpourri,"
        " perfume, perfumed, cologne, face powder, bouquet, fresh flowers, dried flowers,"
        " wildflowers, spring flowers, white flowers, flower shop, bridal bouquet, violet candy,"
        " rose turkish delight, parma violets, lavender soap, orris root, orris butter",
        _SINGLE,
    ),
    # Spicy ----------------------------------------------------------------
    (
        "Spicy",
        "Baking Spice",
        "flavor",
        "cinnamon, cassia",
        "{} | {} stick | {} bark | ground {} | {} sugar | {} toast | {} roll | warm {}"
        " | sweet {} | {} oil | {} syrup | {} dust | {} candy | red hot {} | {} spice",
    ),
    (
        "Spicy",
        "Baking Spice",
        "flavor",
        "clove, nutmeg, allspice, mace, cardamom, green cardamom, star anise, anise, caraway,"
        " fennel seed, coriander seed, aniseed, black cardamom",
        "{} | ground {} | toasted {} | whole {} | warm {} | sweet {} | crushed {} | {} oil"
        " | freshly grated {} | dried {} | {} pod | roasted {}",
    ),
    (
        "Spicy",
        "Baking Spice",
        "flavor",
        "ginger",
        "{} | fresh {} | candied {} | dried {} | pickled {} | crystallized {} | {} root"
        " | {} beer | {} ale | {} cookie | {} syrup | {} juice | spicy {} | stem {}"
        " | ground {} | {} snap | {} cake | {} tea | {} biscuit | {} chew | {} jam",
    ),
    (
        "Spicy",
        "Baking Spice",
        "flavor",
        "baking spice, mixed spice, pumpkin spice, mulling spice, chai spice, christmas spice,"
        " pie spice, warm spice, sweet spice, exotic spice, garam masala, ras el hanout,"
        " five spice, speculoos spice, apple pie spice, spice cake, spiced cookie, spice drawer",
        "{} | gentle {} | heavy {}",
    ),
    (
        "Spicy",
        "Pepper",
        "flavor",
        "black pepper, white pepper, pink peppercorn, green peppercorn, szechuan pepper,"
        " long pepper, cubeb, grains of paradise, peppercorn, pepper, tellicherry pepper,"
        " sansho pepper, red peppercorn, spicy, peppery, spiced, spice box",
        "{} | cracked {} | freshly ground {} | coarse {} | toasted {} | crushed {}",
    ),
    (
        "Spicy",
        "Chili",
        "flavor",
        "jalapeño, chipotle, habanero, cayenne, paprika, ancho chili, red chili, green chili,"
        " poblano, serrano, guajillo, pasilla, chili pepper, bird's eye chili, aleppo pepper,"
        " scotch bonnet, piquillo pepper, hatch chile, thai chili, chile de árbol",
        "{} | roasted {} | smoked {} | dried {} | fresh {} | pickled {} | charred {} | mild {}",
    ),
    (
        "Spicy",
        "Chili",
        "flavor",
        "hot sauce, chili oil, chili flakes, chili powder, harissa, gochugaru, gochujang,"
        " piment d'espelette, sweet paprika, hot paprika, red pepper flakes, chili jam,"
        " sweet chili sauce, peri-peri, mole, mole poblano, chili chocolate, chili heat,"
        " spicy heat, capsaicin, tabasco, sambal, jalapeño popper, salsa verde, pico de gallo",
        _SINGLE,
    ),
    (
        "Spicy",
        "Savory Spice",
        "flavor",
        "cumin, coriander, turmeric, saffron, fenugreek, curry leaf, mustard seed, celery seed,"
        " sumac, za'atar, dill seed, nigella, asafoetida, curry powder, black cumin,"
        " smoked cumin, annatto, ajwain",
        "{} | toasted {} | ground {} | roasted {} | dried {}",
    ),
    (
        "Spicy",
        "Savory Spice",
        "flavor",
        "mustard, dijon mustard, whole grain mustard, english mustard, horseradish, wasabi,"
        " fresh horseradish, hot mustard, honey mustard, mustard greens, radish heat,"
        " spice market, curry, yellow curry, green curry, red curry, tikka masala, vindaloo",
        _SINGLE,
    ),
    # Woody ----------------------------------------------------------------
    (
        "Woody",
        "Oak",
        "aroma",
        "oak, american oak, french oak, european oak, japanese oak, mizunara oak,"
        " hungarian oak, white oak",
        "{} | toasted {} | charred {} | fresh {} | seasoned {} | {} tannins | {} spice"
        " | {} char | dry {} | polished {} | damp {} | sweet {} | {} barrel | {} shavings"
        " | {} sawdust | heavily toasted {} | lightly toasted {} | {} staves | creamy {}"
        " | vanilla {} | spicy {} | old {} | new {} | {} chips",
    ),
    (
        "Woody",
        "Oak",
        "aroma",
        "oaky, virgin oak, oak cask, barrel char, cask char, charred barrel, toasted barrel,"
        " barrel staves, cooperage, sawdust, wood shavings, woody, wood, wet wood, dry wood,"
        " old wood, green wood, sap wood, wood tannin, oak influence",
        _SINGLE,
    ),
    (
        "Woody",
        "Cask",
        "aroma",
        "sherry cask, bourbon cask, port cask, wine cask, rum cask, madeira cask, oloroso cask,"
        " px cask, cognac cask, red wine cask, sauternes cask, mezcal cask, ex-bourbon barrel",
        "{} | {} influence | {} spice",
    ),
    (
        "Woody",
        "Aromatic Wood",
        "aroma",
        "cedar, cedarwood, sandalwood, pine, rosewood, hickory, mesquite, cherry wood,"
        " applewood, birch, beech, maple wood, olive wood, teak, spruce, fir, cypress,"
        " agarwood, palo santo, guaiac wood, redwood, juniper wood, eucalyptus wood",
        "{} | {} shavings | fresh-cut {} | {} bark | {} resin | {} sap | polished {}"
        " | damp {} | dry {} | {} smoke | burning {} | {} chips",
    ),
    (
        "Woody",
        "Aromatic Wood",
        "aroma",
        "pine needles, spruce tips, fir needles, pine cone, cedar chest, cedar box, cigar box,"
        " pencil shavings, pencil box, cedar closet, oud, cedar plank, christmas tree,"
        " pine forest, evergreen, forest pine",
        _SINGLE,
    ),
    (
        "Woody",
        "Resinous",
        "aroma",
        "pine resin, frankincense, myrrh, incense, camphor, turpentine, varnish, amber, tar,"
        " pine tar, resin, tree sap, benzoin, copal, labdanum, balsam, lacquer, shellac,"
        " furniture polish, wood polish, linseed oil, beeswax polish, church incense,"
        " temple incense, sandalwood incense, menthol resin, mastic, balsamic resin",
        _SINGLE,
    ),
    # Roasted --------------------------------------------------------------
    (
        "Roasted",
        "Smoke",
        "aroma",
        "peat",
        "{} | wet {} | dry {} | earthy {} | medicinal {} | coastal {} | sweet {} | smoldering {}"
        " | {} fire | {} smoke | {} reek | {} bog | light {} | heavy {} | burning {} | damp {}"
        " | {} moss | {} embers | {} ash",
    ),
    (
        "Roasted",
        "Smoke",
        "aroma",
        "smoke, wood smoke, peat smoke, coal smoke, pipe smoke, cigar smoke, bonfire smoke,"
        " oak smoke, hickory smoke, mesquite smoke, applewood smoke, campfire smoke",
        "{} | light {} | heavy {} | gentle {} | sweet {} | faint {} | acrid {} | cold {}"
        " | stale {} | drifting {}",
    ),
    (
        "Roasted",
        "Smoke",
        "aroma",
        "smoky, peaty, charcoal, char, ash, soot, embers, burnt wood, charred wood, cinders,"
        " creosote, smoldering embers, cold ash, wet ash, ashtray, burnt match, smoked salt,"
        " smoked tea, lapsang souchong, smoked paprika, smoked chili, smoked almonds,"
        " smoked cheese, smoked butter, smoked honey, smoked sugar, tarry smoke,"
        " medicinal smoke, iodine smoke, seaside smoke, burnt embers, charred embers",
        _SINGLE,
    ),
    (
        "Roasted",
        "Coffee",
        "flavor",
        "coffee, espresso, coffee bean, dark roast coffee, light roast coffee",
        "{} | fresh {} | burnt {} | bitter {} | strong {} | iced {} | freshly ground {}"
        " | stale {} | sweet {} | roasted {} | {} crema | {} liqueur | {} ice cream"
        " | {} syrup | {} candy",
    ),
    (
        "Roasted",
        "Coffee",
        "flavor",
        "dark roast, medium roast, light roast, french roast, italian roast, cold brew,"
        " coffee grounds, mocha, cappuccino, latte, flat white, café au lait, café crème,"
        " café de olla, café, instant coffee, turkish coffee, cascara, coffee cherry, chicory,"
        " roasted chicory, affogato, macchiato, cortado, coffee cake, tiramisu, espresso martini,"
        " mocha latte, coffee beans, roasted coffee beans, green coffee, coffee chaff",
        _SINGLE,
    ),
    (
        "Roasted",
        "Cocoa",
        "flavor",
        "dark chocolate, milk chocolate, white chocolate, bittersweet chocolate,"
        " semisweet chocolate, chocolate, baking chocolate, mint chocolate, orange chocolate,"
        " salted chocolate",
        "{} | {} shavings | melted {} | {} ganache | {} mousse | {} truffle | {} cake"
        " | {} sauce | {} bar | {} brownie | {} chips | {} fudge | {} cookie | rich {}"
        " | bitter {} | {} ice cream | {} pudding | {} milk | {} frosting",
    ),
    (
        "Roasted",
        "Cocoa",
        "flavor",
        "cocoa, cacao",
        "{} | {} nibs | {} powder | {} butter | {} bean | {} husk | {} pod | {} pulp"
        " | roasted {} | raw {} | bitter {} | dusty {} | dark {} | {} dust | {} shell",
    ),
    (
        "Roasted",
        "Toast",
        "flavor",
        "toast, burnt toast, buttered toast, french toast, cinnamon toast, melba toast,"
        " toasted bread, toasty, crust, bread crust, pie crust, pizza crust, crusty bread,"
        " cereal, breakfast cereal, granola, muesli, porridge, oatmeal, graham cracker,"
        " digestive biscuit, cracker, water cracker, pretzel, popcorn, buttered popcorn,"
        " caramel popcorn, kettle corn, tortilla, corn chips, rice cracker, toasted rice,"
        " bran, wheat germ, cookie dough, pastry dough, yeast, bread dough, wort, grist,"
        " malted milk, biscuit, cookie, shortbread, roasted grain, toasted grain, grainy,"
        " bready, biscuity, cracker-like, rusk",
        _SINGLE,
    ),
    (
        "Roasted",
        "Toast",
        "flavor",
        "bread, rye bread, sourdough, brown bread, white bread, pumpernickel, baguette,"
        " cornbread, soda bread, malt loaf, fresh bread, wholemeal bread",
        "{} | fresh {} | warm {} | burnt {} | buttered {} | stale {} | toasted {} | {} crumbs",
    ),
    (
        "Roasted",
        "Grain",
        "flavor",
        "malt, barley, wheat, rye, oat, corn, rice, spelt, buckwheat, millet, sorghum",
        "{} | toasted {} | roasted {} | malted {} | {} bread | {} flour | {} husk | cooked {}"
        " | sweet {} | {} mash | {} cracker | puffed {} | {} cereal | {} flakes | {} chaff"
        " | {} syrup",
    ),
    (
        "Roasted",
        "Grain",
        "flavor",
        "crystal malt, chocolate malt, black malt, biscuit malt, caramel malt, pale malt,"
        " munich malt, smoked malt, roasted barley, malt extract, malted barley, wheat beer,"
        " barley sugar, barley water, malty, grain spirit, new make, corn mash, sour mash,"
        " distillers grains, porridge oats, rolled oats",
        _SINGLE,
    ),
    # Earthy ---------------------------------------------------------------
    (
        "Earthy",
        "Soil & Forest",
        "aroma",
        "earth, soil, forest floor, clay, moss, leaves, bark, loam, humus, mulch, compost,"
        " mud, undergrowth, leaf litter, fern, bracken, lichen",
        "{} | wet {} | damp {} | dry {} | fresh {} | warm {} | dark {} | rich {}",
    ),
    (
        "Earthy",
        "Soil & Forest",
        "aroma",
        "earthy, potting soil, autumn leaves, dead leaves, fallen leaves, beetroot, beet,"
        " root cellar, barnyard, petrichor, tree bark, cellar, damp cellar, dust, dusty,"
        " musty, wet cardboard, cork, truffle oil, forest, dried leaves, tobacco barn,"
        " mossy stones, garden soil, rain on soil, wet forest, mushroom compost, dunnage",
        _SINGLE,
    ),
    (
        "Earthy",
        "Mushroom",
        "aroma",
        "mushroom, porcini, shiitake, chanterelle, morel, button mushroom, oyster mushroom,"
        " enoki, truffle, black truffle, white truffle, cremini, portobello, maitake",
        "{} | dried {} | sautéed {} | wild {} | roasted {} | fresh {} | {} broth"
        " | earthy {} | grilled {} | {} risotto | {} powder",
    ),
    (
        "Earthy",
        "Leather & Tobacco",
        "aroma",
        "leather, saddle leather, suede",
        "{} | old {} | new {} | polished {} | worn {} | soft {} | oiled {} | tanned {}"
        " | {} jacket | {} boots | {} saddle | {} gloves | {} bag | {} belt | supple {}"
        " | {} armchair | {} sofa | {} polish | {} book binding",
    ),
    (
        "Earthy",
        "Leather & Tobacco",
        "aroma",
        "tobacco, pipe tobacco, tobacco leaf, cavendish, virginia tobacco, perique, latakia,"
        " turkish tobacco, burley tobacco, cherry tobacco",
        "{} | sweet {} | dried {} | cured {} | fresh {} | aged {} | {} pouch | damp {}"
        " | smoky {} | {} tin",
    ),
    (
        "Earthy",
        "Leather & Tobacco",
        "aroma",
        "cigar, cigar wrapper, cigar ash, unlit cigar, cigar band, snuff, chewing tobacco,"
        " tobacco smoke, cigarette, cigarette ash, tack room, saddle soap, horse, horse blanket,"
        " stable, sweaty saddle, game, gamey, musk, musky, animal, hide, fur, wet dog, wet wool",
        _SINGLE,
    ),
    (
        "Earthy",
        "Mineral",
        "aroma",
        "flint, slate, chalk, stone, gravel, granite, limestone, river stone, pebbles, rock,"
        " shale, basalt, sandstone, concrete",
        "{} | wet {} | crushed {} | warm {} | sun-baked {} | dusty {} | cold {} | {} dust",
    ),
    (
        "Earthy",
        "Mineral",
        "aroma",
        "mineral, minerality, struck match, gunflint, gunpowder, graphite, pencil lead,"
        " petrol, kerosene, diesel, metallic, iron, copper, steel, rust, blood, mineral water,"
        " sparkling water, volcanic ash, sulfur, matchstick, wet pavement, asphalt, tarmac,"
        " hot tar, hot stones, sun-warmed rocks, quarry, cave, tin can, coins",
        _SINGLE,
    ),
    (
        "Earthy",
        "Saline",
        "flavor",
        "sea salt, salt, brine, sea spray, salt water, saline, briny, salty, flaky salt,"
        " fleur de sel, pickle brine, olive brine, oyster brine, sea air, seawater, oyster,"
        " oyster shell, iodine, salted butter caramel, salt lick, salty licorice,"
        " salted crackers, salt crust, himalayan salt, rock salt, salted nuts, anchovy,"
        " seashells, sea breeze, rock pool, tidal pool, ocean spray, salt marsh",
        _SINGLE,
    ),
    (
        "Earthy",
        "Savory",
        "flavor",
        "soy sauce, miso, umami, broth, beef broth, chicken stock, bone broth, meaty,"
        " venison, cured ham, jamón, prosciutto, salami, olive tapenade, yeast extract,"
        " worcestershire sauce, fish sauce, dashi, bonito flakes, seared steak, roast beef,"
        " roast chicken, gravy, bacon fat, lard, duck fat, foie gras, pâté, blood sausage,"
        " chorizo, pepperoni, beef jerky, bacon, crispy bacon, maple bacon, smoked meat,"
        " smoked ham, smoked fish, kippers, smoked salmon, barbecue, grilled meat, pastrami,"
        " brisket, burnt ends, smoked sausage, speck, charcuterie, biltong, soy glaze,"
        " teriyaki, hoisin, black garlic, fermented soy, tamari, marmite, stock cube,"
        " chicken broth, ramen broth, pho broth, beef stew, meat juices",
        _SINGLE,
    ),
    # Sweet ----------------------------------------------------------------
    (
        "Sweet",
        "Caramel",
        "flavor",
        "caramel, toffee, butterscotch, fudge, dulce de leche",
        "{} | salted {} | burnt {} | soft {} | chewy {} | buttery {} | {} sauce | {} candy"
        " | sticky {} | {} apple | {} popcorn | {} drizzle | creamy {} | dark {} | {} chews"
        " | {} swirl | {} brittle | {} glaze | {} pudding | {} latte | {} cream",
    ),
    (
        "Sweet",
        "Caramel",
        "flavor",
        "crème brûlée, crème caramel, flan, caramelized sugar, burnt sugar, brûléed sugar,"
        " cajeta, caramelized milk, caramel corn, butter toffee, english toffee, treacle toffee,"
        " toffee apple, praline, pralines and cream, caramel macchiato, millionaire shortbread,"
        " werther's",
        _SINGLE,
    ),
    (
        "Sweet",
        "Sugar & Syrup",
        "flavor",
        "brown sugar, demerara sugar, muscovado sugar, cane sugar, palm sugar, coconut sugar,"
        " turbinado sugar, raw sugar",
        "{} | burnt {} | caramelized {} | melted {} | {} syrup | {} glaze | dark {}",
    ),
    (
        "Sweet",
        "Sugar & Syrup",
        "flavor",
        "maple",
        "{} syrup | {} sugar | {} candy | {} fudge | {} cream | {} glaze | {} butter"
        " | {} taffy | dark {} syrup | warm {} syrup | {} walnut | {} pecan | {} bacon",
    ),
    (
        "Sweet",
        "Sugar & Syrup",
        "flavor",
        "sugar, white sugar, caster sugar, icing sugar, powdered sugar, sugar cube, rock sugar,"
        " jaggery, panela, piloncillo, molasses, blackstrap molasses, treacle, black treacle,"
        " golden syrup, cane syrup, sorghum syrup, date syrup, agave nectar, agave syrup,"
        " brown rice syrup, simple syrup, corn syrup, sugar syrup, spun sugar, sweet,"
        " sugary, syrupy sweetness, pancake syrup, grenadine, orgeat, falernum, candy sugar,"
        " belgian candi sugar, barley malt syrup, birch syrup, pomegranate molasses",
        _SINGLE,
    ),
    (
        "Sweet",
        "Honey",
        "flavor",
        "honey, wildflower honey, heather honey, clover honey, acacia honey, buckwheat honey,"
        " manuka honey, chestnut honey, lavender honey, thyme honey, eucalyptus honey,"
        " linden honey, forest honey, orange blossom honey, raw honey",
        "{} | raw {} | warm {} | creamed {} | runny {} | dark {} | {} drizzle",
    ),
    (
        "Sweet",
        "Honey",
        "flavor",
        "honeycomb, beeswax, mead, honeyed, honey cake, honey roasted, honey nut cereal,"
        " honeycomb toffee, honey glaze, bee pollen, royal jelly, nectar, honeysuckle nectar,"
        " golden honey, honeyed fruit, hot toddy",
        _SINGLE,
    ),
    (
        "Sweet",
        "Vanilla",
        "flavor",
        "vanilla, vanilla bean, french vanilla",
        "{} | sweet {} | creamy {} | {} custard | {} ice cream | {} cream | {} sugar"
        " | {} fudge | {} frosting | {} pudding | {} cake | {} wafer | {} syrup | {} latte"
        " | {} yogurt | {} milkshake | {} marshmallow | {} cookie | {} sponge",
    ),
    (
        "Sweet",
        "Vanilla",
        "flavor",
        "madagascar vanilla, tahitian vanilla, mexican vanilla, bourbon vanilla, vanilla pod,"
        " vanilla extract, vanillin, vanilla essence, custard, custard cream, crème anglaise,"
        " crème pâtissière, pastry cream, eggnog, vanilla slice, sweet cream, cream soda",
        _SINGLE,
    ),
    (
        "Sweet",
        "Confectionery",
        "flavor",
        "cotton candy, candy floss, bubblegum, marshmallow, toasted marshmallow, jelly beans,"
        " gummy bears, licorice, black licorice, red licorice, nougat, marzipan, meringue,"
        " lemon drops, boiled sweets, sherbet, rock candy, candy cane, peppermint candy,"
        " fruit pastilles, pâte de fruit, turkish delight, fondant, icing, frosting,"
        " buttercream, candied nuts, brittle, peanut brittle, halva, candy apple, gumdrops,"
        " lollipop, pear drops, bonbons, sugared almonds, jordan almonds, dragée, gianduja,"
        " nougatine, rum truffles, tablet, taffy, saltwater taffy, caramel chews, sour candy,"
        " candied violets, glacé cherries, maraschino cherry, marrons glacés, jelly,"
        " fruit gums, jawbreaker, sugar mice, fudge sauce, candy corn, cola bottles,"
        " sweets, candy, confectionery, sprinkles, hundreds and thousands, smarties,"
        " candy shop, love hearts, gobstopper, starburst, skittles, sour cherry candy,"
        " root beer barrel, butter mints, after dinner mints, mint humbugs, pontefract cakes",
        _SINGLE,
    ),
    (
        "Sweet",
        "Confectionery",
        "flavor",
        "root beer, cream soda, cola, ginger ale, birch beer, sarsaparilla, orange soda,"
        " dandelion and burdock, tonic water, bitter lemon, lemonade, pink lemonade,"
        " iced tea, cherry soda, vanilla cola, shirley temple, fanta, dr pepper",
        _SINGLE,
    ),
    (
        "Sweet",
        "Pastry",
        "flavor",
        "shortbread, sugar cookie, brioche, croissant, pain au chocolat, crêpe, crêpes suzette,"
        " waffle, pancake, cinnamon roll, sticky bun, banana bread, gingerbread, panettone,"
        " stollen, apple pie, pecan pie, key lime pie, cheesecake, pound cake, sponge cake,"
        " angel food cake, éclair, profiterole, choux pastry, danish pastry, baklava, churros,"
        " doughnut, glazed doughnut, jam doughnut, macaron, madeleine, financier, tarte tatin,"
        " bread pudding, rice pudding, sticky toffee pudding, christmas pudding, mince pie,"
        " carrot cake, red velvet cake, black forest cake, crumble, panna cotta, soufflé,"
        " trifle, eton mess, pavlova, lemon meringue pie, pumpkin pie, sweet potato pie,"
        " oatmeal cookie, snickerdoodle, biscotti, amaretti, florentine, s'mores, brownie,"
        " blondie, chocolate chip cookie, butter cookie, speculoos, stroopwafel,"
        " kouign-amann, canelé, mille-feuille, opera cake, gâteau, frangipane, bakewell tart,"
        " treacle tart, custard tart, pastel de nata, banoffee pie, tres leches, arroz con leche,"
        " fig roll, jaffa cake, battenberg, victoria sponge, lemon drizzle cake, tea cake,"
        " hot cross bun, scone, cream scone, fruit scone, sticky toffee, bread and butter pudding,"
        " sugar doughnut, funnel cake, beignet, cannoli, zeppole, babka, rugelach, kolache,"
        " strudel, linzer torte, sachertorte, dobos torte, madeira cake, marble cake,"
        " coffee and walnut cake, carrot cake frosting, baked custard, cinnamon bun,"
        " cardamom bun, pastry, puff pastry, shortcrust pastry, crème brûlée crust",
        _SINGLE,
    ),
    # Herbal ---------------------------------------------------------------
    (
        "Herbal",
        "Fresh Herb",
        "aroma",
        "mint, spearmint, peppermint, basil, thai basil, thyme, lemon thyme, rosemary, sage,"
        " oregano, dill, tarragon, chervil, parsley, cilantro, lemongrass, lemon verbena,"
        " lemon balm, bay leaf, marjoram, fennel, sorrel, lovage, shiso, kaffir lime leaf,"
        " chamomile, hyssop, savory, chives, wild garlic",
        "{} | fresh {} | dried {} | crushed {} | wild {} | bruised {} | {} sprig | {} tea | {} oil",
    ),
    (
        "Herbal",
        "Botanical",
        "aroma",
        "juniper, juniper berry, eucalyptus, wormwood, angelica root, licorice root, gentian,"
        " cinchona, quinine, orris, mugwort, yarrow, wintergreen, menthol, anise hyssop,"
        " cubeb berry, grains of selim, elderflower cordial",
        "{} | bitter {} | {} oil | {} tincture",
    ),
    (
        "Herbal",
        "Botanical",
        "aroma",
        "herbal, herbaceous, botanical, medicinal, herbal liqueur, amaro, chartreuse,"
        " absinthe, pastis, herbal bitters, aromatic bitters, angostura, cough syrup,"
        " cough drops, vicks, mentholated, camphorous, herbal tea, herb garden, potherbs,"
        " bouquet garni, herbes de provence, italian herbs, garrigue, maquis, sagebrush,"
        " desert sage, wild herbs, dried herbs, fresh herbs, green herbs, alpine herbs",
        _SINGLE,
    ),
    (
        "Herbal",
        "Grassy",
        "aroma",
        "grass, hay, straw, wheatgrass, sweet grass, meadow grass, bison grass",
        "{} | fresh {} | dried {} | sun-dried {} | wet {} | sweet {} | green {} | cut {}",
    ),
    (
        "Herbal",
        "Grassy",
        "aroma",
        "cut grass, fresh-cut grass, lawn clippings, green leaves, green stem, tomato leaf,"
        " fig leaf, blackcurrant leaf, vine leaves, stems, green wood, green hay, alfalfa,"
        " clover, nettle, chlorophyll, bamboo, bamboo shoot, leafy greens, grassy, green,"
        " hay bale, haystack, hayloft, silage, meadow, summer meadow, pea shoots, sprouts,"
        " stalky, twiggy, green twigs, crushed leaves, tea leaves, green tomato",
        _SINGLE,
    ),
    (
        "Herbal",
        "Vegetal",
        "flavor",
        "bell pepper, red pepper, green pepper, asparagus, green bean, carrot, beetroot,"
        " pumpkin, butternut squash, sweet potato, onion, garlic, shallot, fennel bulb,"
        " eggplant, zucchini, leek, parsnip, sweetcorn, tomato, cabbage, cauliflower,"
        " brussels sprout, mushroom cap, artichoke, celery root, potato",
        "{} | roasted {} | grilled {} | pickled {} | raw {} | cooked {} | charred {}",
    ),
    (
        "Herbal",
        "Vegetal",
        "flavor",
        "pea, snap pea, cucumber, celery, green olive, black olive, kalamata olive,"
        " sun-dried tomato, tomato paste, rhubarb, seaweed, nori, kelp, spinach, kale,"
        " sauerkraut, kimchi, pickle, dill pickle, vinegar, balsamic vinegar, sherry vinegar,"
        " apple cider vinegar, rice vinegar, caramelized onion, roasted garlic, scallion,"
        " corn husk, baked potato, turnip, radish, squash blossom, cooked vegetables,"
        " canned corn, creamed corn, vegetal, vegetable broth, tomato vine, olive oil,"
        " green olive oil, pickled ginger, capers, gherkin, sorrel soup, rhubarb crumble,"
        " rhubarb and custard, stewed rhubarb, cucumber skin, watercress, arugula, endive,"
        " radicchio, dandelion greens, fresh peas, edamame, lentils, chickpeas, hummus, olive",
        _SINGLE,
    ),
    (
        "Herbal",
        "Tea",
        "aroma",
        "black tea, green tea, oolong, jasmine tea, earl grey, darjeeling, assam, white tea,"
        " pu-erh, rooibos, matcha, sencha",
        "{} | strong {} | brewed {} | stewed {} | iced {} | {} leaves",
    ),
    (
        "Herbal",
        "Tea",
        "aroma",
        "ceylon tea, gyokuro, genmaicha, hojicha, chamomile tea, honeybush, yerba mate,"
        " mint tea, english breakfast tea, builder's tea, milk tea, chai, masala chai,"
        " sweet tea, roasted tea, tieguanyin, dancong, longjing, bancha, kukicha, barley tea,"
        " mate, oolong tea, tea, tea bag, cold tea, tannic tea, smoky tea, bubble tea,"
        " lemon tea, peach tea, hibiscus tea, fruit tea, herbal infusion, tisane, kombucha,"
        " matcha latte, chai latte, london fog, hot chocolate, iced coffee",
        _SINGLE,
    ),
    # Dairy ----------------------------------------------------------------
    (
        "Dairy",
        "Butter",
        "flavor",
        "butter, brown butter, melted butter, salted butter, cultured butter, clarified butter,"
        " ghee, beurre noisette, butter sauce, beurre blanc, buttered, butter biscuit,"
        " butter pastry, whipped butter, garlic butter, honey butter, cinnamon butter,"
        " butter popcorn, butter caramel, fresh butter, sweet butter",
        _SINGLE,
    ),
    (
        "Dairy",
        "Cream",
        "flavor",
        "cream, heavy cream, whipped cream, clotted cream, sour cream, crème fraîche,"
        " double cream, single cream, ice cream, soft serve, milk, whole milk, warm milk,"
        " condensed milk, sweetened condensed milk, evaporated milk, milk powder,"
        " powdered milk, buttermilk, milkshake, cream cheese, mascarpone, ricotta,"
        " cottage cheese, whey, milky, lactic, creme, cream liqueur, irish cream,"
        " sweet cream butter, cream puff, crema, mascarpone cream, whipped mascarpone,"
        " vanilla cream, strawberries and cream, peaches and cream, cream tea, milk bottle,"
        " milk candy, boiled milk, baby formula, malted milkshake, clotted cream fudge,"
        " frozen custard, gelato, fior di latte, stracciatella, semifreddo",
        _SINGLE,
    ),
    (
        "Dairy",
        "Cheese",
        "flavor",
        "cheddar, parmesan, gruyère, comté, gouda, manchego, pecorino, emmental, asiago,"
        " provolone, red leicester, mimolette, parmigiano, grana padano, beaufort",
        "{} | aged {} | {} rind | sharp {} | nutty {} | young {} | mature {} | smoked {}"
        " | {} crisp | grated {} | melted {}",
    ),
    (
        "Dairy",
        "Cheese",
        "flavor",
        "brie, camembert, goat cheese, blue cheese, feta, taleggio, stilton, roquefort,"
        " gorgonzola, mozzarella, burrata, chèvre, époisses, munster, limburger, reblochon",
        "{} | ripe {} | {} rind | creamy {} | fresh {} | tangy {} | baked {}",
    ),
    (
        "Dairy",
        "Cheese",
        "flavor",
        "cheese, cheesy, cheese rind, washed rind, cheese curds, swiss cheese, paneer,"
        " raclette, halloumi, fontina, edam, havarti, jarlsberg, wensleydale, cheese cave,"
        " parmesan crisp, cheese board, mac and cheese, cheese puffs, string cheese,"
        " processed cheese, cheese straws, cheese toastie, fondue, caerphilly, lancashire",
        _SINGLE,
    ),
    (
        "Dairy",
        "Cultured",
        "flavor",
        "yogurt, greek yogurt, sour milk, lactic acid, kefir, curds, cultured cream, labneh,"
        " skyr, quark, fromage frais, tangy yogurt, lassi, mango lassi, ayran, crème fraîche tart,"
        " yogurt tang, sourdough starter, cultured buttermilk, soured cream, kumis, clabber",
        _SINGLE,
    ),
    # Nutty ----------------------------------------------------------------
    (
        "Nutty",
        "Tree Nut",
        "flavor",
        "almond, hazelnut, walnut, pecan, cashew, pistachio, macadamia, peanut, brazil nut,"
        " chestnut, pine nut, marcona almond, black walnut",
        "{} | roasted {} | toasted {} | salted {} | candied {} | raw {} | {} skin | {} butter"
        " | {} paste | {} oil | smoked {} | {} brittle | honey-roasted {} | caramelized {}"
        " | sugared {} | {} praline | spiced {} | chocolate-covered {} | {} flour | {} shell"
        " | {} cookie | {} cake | {} tart",
    ),
    (
        "Nutty",
        "Tree Nut",
        "flavor",
        "almond, walnut",
        "bitter {} | green {}",
    ),
    (
        "Nutty",
        "Tree Nut",
        "flavor",
        "almond, walnut, hazelnut, cashew, macadamia",
        " {} milk | {} liqueur | {} croissant | {} cream | {} nougat",
    ),
    (
        "Nutty",
        "Seed",
        "flavor",
        "sesame, black sesame, sunflower seed, pumpkin seed, flax seed, poppy seed, hemp seed,"
        " melon seed",
        "{} | toasted {} | roasted {} | salted {} | {} paste | {} oil | {} brittle",
    ),
    (
        "Nutty",
        "Nut General",
        "flavor",
        "nutty, mixed nuts, nut skin, nut butter, nutshell, tahini, amaretto, nocino,"
        " roasted nuts, toasted nuts, salted nuts mix, nut brown, nut bread, nut oil, acorn,"
        " beechnut, hickory nut, tiger nut, coconut flakes, toasted coconut, coconut cream,"
        " coconut milk, coconut water, desiccated coconut, chestnut purée, roast chestnuts,"
        " marrons, peanut butter cup, praline paste, nutella, nut cluster, walnut whip,"
        " almond extract, frangelico, orgeat syrup, marzipan fruits, almond joy",
        _SINGLE,
    ),
    # Texture --------------------------------------------------------------
    (
        "Texture",
        "Mouthfeel",
        "texture",
        "silky, velvety, creamy, smooth, oily, buttery, waxy, viscous, syrupy, chewy, juicy,"
        " mouthwatering, coating, mouth-coating, sticky, slick, glossy, supple, soft, fleshy,"
        " fudgy, powdery, chalky, gritty, grainy, dusty, crisp, crunchy, crumbly, flaky,"
        " melting, fluffy, airy, tacky, dry, drying, astringent, puckering, grippy, rough,"
        " coarse, rustic, taut, tight, firm, angular, sharp, bright, lively, zippy, tart,"
        " tangy, sour, acidic, racy, nervy, vibrant, fresh, refreshing, clean, cooling,"
        " numbing, tingling, warming, hot, burning, fiery, prickly, spritzy, effervescent,"
        " fizzy, sparkling, bubbly, flat, still, frothy, foamy, mellow, harsh, hollow, thin,"
        " watery, rich, lean, weighty, heavy, light, dense, round, plush, lush, robust,"
        " delicate, structured, concentrated, balanced, integrated, layered, complex, bold,"
        " subtle, gentle, soft-spoken, bracing, austere, flabby, jammy, unctuous, gelatinous,"
        " mousse-like, pillowy, resinous, glycerol, spirity, boozy, alcoholic",
        _SINGLE,
    ),
    (
        "Texture",
        "Mouthfeel",
        "texture",
        "silky, velvety, creamy, smooth, oily, buttery, waxy, viscous, syrupy, chewy, juicy,"
        " sticky, powdery, chalky, gritty, grainy, dry, astringent, grippy, rough, firm,"
        " bright, lively, tart, tangy, sour, acidic, fresh, clean, warming, hot, prickly,"
        " fizzy, thin, watery, rich, light, heavy, dense, round, plush, lush, soft, crisp",
        "very {} | slightly {} | {} mouthfeel",
    ),
    (
        "Texture",
        "Body",
        "texture",
        "full-bodied, medium-bodied, light-bodied, big-bodied, thin-bodied, full body,"
        " medium body, light body, heavy body, round body, creamy body, syrupy body,"
        " silky body, juicy body, tea-like body, thick, mouthfilling, weightless, substantial,"
        " chunky, big, muscular, fleshy body, lean body",
        _SINGLE,
    ),
    (
        "Texture",
        "Tannin",
        "texture",
        "soft, firm, fine-grained, dusty, grippy, velvety, silky, chalky, ripe, green,"
        " polished, sandy, coarse, rustic, supple, drying, gripping, integrated, assertive,"
        " muscular",
        "{} tannins",
    ),
    (
        "Texture",
        "Tannin",
        "texture",
        "tannic, tannin, tannins, tannic grip, tannic structure, tea tannin, grape tannin,"
        " oak tannin, astringency, puckery, mouth-drying",
        _SINGLE,
    ),
    (
        "Texture",
        "Finish",
        "texture",
        "clean, dry, sweet, bitter, warm, spicy, smoky, fruity, lingering, long, short, medium,"
        " crisp, smooth, oaky, peppery, nutty, herbal, tannic, salty, minty, honeyed, silky,"
        " hot, chalky, mineral, abrupt, fading, endless, creamy, bittersweet, drying, resinous,"
        " earthy, malty, sour, tart, vinous, woody, leathery",
        "{} finish",
    ),
    (
        "Texture",
        "Carbonation",
        "texture",
        "fine bubbles, tight bead, fine bead, soft carbonation, lively carbonation,"
        " high carbonation, low carbonation, creamy head, thick head, rocky head, lacing,"
        " prickle, petillant, spritz, champagne bubbles, pinpoint bubbles, soft mousse,"
        " creamy mousse, nitro smoothness",
        _SINGLE,
    ),
    (
        "Texture",
        "Heat",
        "texture",
        "alcohol heat, ethanol burn, peppery heat, chili burn, warm glow, throat warmth,"
        " kentucky hug, tongue tingle, hot finish, warming finish, spirity heat, nose prickle,"
        " nasal burn, cooling menthol, mouth-numbing, tongue-coating, palate-coating,"
        " mouth-filling",
        _SINGLE,
    ),
    # Metaphor -------------------------------------------------------------
    (
        "Metaphor",
        "Place",
        "metaphor",
        "campfire, bonfire, fireplace, wood stove, log cabin, library, old library, cathedral,"
        " attic, barn, bakery, candy store, coffee shop, spice market, workshop, greenhouse,"
        " church, monastery, sauna, harbor, boathouse, cellar door, smokehouse, distillery,"
        " brewery, tea house, cheese shop, chocolate shop, flower shop, farmers market",
        "{} | old {} | {} at night | {} in winter | {} after rain",
    ),
    (
        "Metaphor",
        "Memory",
        "metaphor",
        "leather armchair, grandma's kitchen, christmas morning, summer rain, autumn walk,"
        " beach bonfire, cigar lounge, gentlemen's club, antique shop, hayloft in summer,"
        " orchard in bloom, spring meadow, fairground, swimming pool, sea breeze on a pier,"
        " fishing boat, tar road, wine cellar, ski lodge, farmyard, garden after rain,"
        " forest walk, citrus grove, tropical vacation, piña colada, sunday roast,"
        " thanksgiving dinner, birthday cake, school chalkboard, new car, crayons, band-aid,"
        " hospital corridor, doctor's office, dentist's office, sawmill, lumberyard,"
        " carpenter's shop, machine shop, garage, old books, leather-bound books,"
        " grandfather's study, jewelry box, linen closet, clean laundry, sun-dried linen,"
        " freshly mown lawn, picnic, county fair, movie theater popcorn, ballpark, lighthouse,"
        " rocky shore, tide pools, rainforest, desert, prairie, vineyard, souk, temple,"
        " confectioner's shop, cheese cave visit, dairy farm, apple orchard, cider mill,"
        " sugar shack, bonfire night, fireworks, summer evening, winter fire, first snow,"
        " spring morning, harvest festival, christmas market, gingerbread house,"
        " grandmother's pantry, wet pavement after rain, thunderstorm, sea mist,"
        " peat bog, moorland, heather moor, highland moor, coastal cliff, shipyard, old ship,"
        " tar barrel, railway sleepers, steam train, coal fire, blacksmith's forge, gun smoke,"
        " old attic trunk, dusty bookshelf, vintage leather, library paste, new shoes,"
        " baby powder, grandma's perfume, lipstick, soap, spa, cedar sauna, pine cleaner,"
        " pencil case, rubber eraser, old coins, medicine cabinet, first aid kit, hot asphalt,"
        " tennis balls, kitchen spice rack, sunday pancakes, movie night, rainy afternoon,"
        " walk in the woods, ocean swim, camping trip, barbecue party, summer picnic,"
        " autumn bonfire, winter cabin, mountain air, alpine meadow, english garden,"
        " french bakery, italian deli, mexican market, japanese garden, moroccan spice stall,"
        " irish pub, scottish coast, kentucky rickhouse, cuban cigar bar, caribbean beach,"
        " tropical fruit stand, orchard harvest, vineyard at harvest, farm stand",
        _SINGLE,
    ),
)

#: Most popular concepts, most popular first; the rest follow in a fixed shuffle.
_HEAD: Final[tuple[str, ...]] = (
    "cherry",
    "vanilla",
    "caramel",
    "dark chocolate",
    "oak",
    "honey",
    "citrus",
    "apple",
    "smoke",
    "black pepper",
    "lemon",
    "orange peel",
    "coffee",
    "toffee",
    "cinnamon",
    "chocolate",
    "raisin",
    "peat",
    "dried fruit",
    "butterscotch",
    "plum",
    "leather",
    "tobacco",
    "blackberry",
    "raspberry",
    "strawberry",
    "banana",
    "pear",
    "apricot",
    "peach",
    "brown sugar",
    "nutmeg",
    "clove",
    "ginger",
    "almond",
    "hazelnut",
    "walnut",
    "cocoa",
    "espresso",
    "toast",
    "malt",
    "bread",
    "biscuit",
    "cream",
    "butter",
    "grapefruit",
    "lime",
    "blueberry",
    "blackcurrant",
    "fig",
    "date",
    "prune",
    "maple syrup",
    "molasses",
    "mint",
    "floral",
    "rose",
    "jasmine",
    "lavender",
    "violet",
    "grass",
    "hay",
    "earthy",
    "mushroom",
    "forest floor",
    "black tea",
    "green apple",
    "red apple",
    "pineapple",
    "mango",
    "coconut",
    "tropical fruit",
    "stone fruit",
    "red fruit",
    "dark fruit",
    "cedar",
    "sandalwood",
    "pine",
    "toasted oak",
    "charred oak",
    "dark cherry",
    "candied orange peel",
    "orange",
    "sherry",
    "port",
    "red wine",
    "sea salt",
    "brine",
    "iodine",
    "flint",
    "wet stone",
    "chalk",
    "smooth",
    "silky",
    "creamy",
    "oily",
    "rich",
    "full-bodied",
    "long finish",
    "dry",
    "bright",
    "juicy",
    "campfire",
    "old library",
    "black cherry",
    "baked apple",
    "lemon zest",
    "orange zest",
    "honeycomb",
    "marzipan",
    "licorice",
    "star anise",
    "cardamom",
    "allspice",
    "white pepper",
    "tobacco leaf",
    "cigar box",
    "pipe tobacco",
    "crème brûlée",
    "café au lait",
    "jalapeño",
    "rosé wine",
    "red currant",
    "cranberry",
    "watermelon",
    "passion fruit",
    "lychee",
    "elderflower",
    "orange blossom",
    "honeysuckle",
    "chamomile",
    "basil",
    "thyme",
    "rosemary",
    "sage",
    "eucalyptus",
    "juniper",
    "cut grass",
    "green tea",
    "earl grey",
    "bell pepper",
    "tomato leaf",
    "olive",
    "soy sauce",
    "bacon",
    "smoked meat",
)


def normalize_descriptor(text: str) -> str:
    """Lower case, accents removed, trimmed and with whitespace runs collapsed.

    Mirrors the database's ``lower(unaccent(...))`` normalized form for the
    characters this module generates.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def _split(spec: str, sep: str) -> list[str]:
    return [part.strip() for part in spec.split(sep) if part.strip()]


def _build_vocabulary() -> tuple[Concept, ...]:
    by_norm: dict[str, Concept] = {}
    order: list[str] = []
    combined: set[str] = set()
    for category, subcategory, hint, bases, forms in _GROUPS:
        for form in _split(forms, "|"):
            for base in _split(bases, ","):
                text = unicodedata.normalize("NFC", form.replace("{}", base))
                words = text.split()
                if len(set(words)) != len(words):
                    continue
                if text != " ".join(words) or text != text.lower():
                    raise ValueError(f"vocabulary text is not canonical: {text!r}")
                key = normalize_descriptor(text)
                if key in by_norm:
                    continue
                by_norm[key] = Concept(text, category, subcategory, hint)
                order.append(key)
                if form != _SINGLE:
                    combined.add(key)
    head: list[str] = []
    for text in _HEAD:
        key = normalize_descriptor(text)
        if key not in by_norm:
            raise ValueError(f"popular concept {text!r} is not in the vocabulary")
        if key in head:
            raise ValueError(f"popular concept {text!r} is listed twice")
        head.append(key)
    head_set = set(head)
    shuffler = random.Random(20_240_501)
    singles = [key for key in order if key not in head_set and key not in combined]
    combos = [key for key in order if key not in head_set and key in combined]
    shuffler.shuffle(singles)
    shuffler.shuffle(combos)
    # Interleave: plain words are a little more popular than combinations, but
    # combinations such as "toasted oak" are not all pushed to the tail.
    rest: list[str] = []
    ratio = len(combos) / max(1, len(singles))
    taken = 0.0
    combo_iter = iter(combos)
    for key in singles:
        rest.append(key)
        taken += ratio * 0.5
        while taken >= 1.0:
            nxt = next(combo_iter, None)
            if nxt is None:
                break
            rest.append(nxt)
            taken -= 1.0
    rest.extend(combo_iter)
    return tuple(by_norm[key] for key in (*head, *rest))


#: Every concept, most popular first (index = popularity rank).
VOCABULARY: Final[tuple[Concept, ...]] = _build_vocabulary()

#: Top-level taxonomy categories, in first-seen order.
CATEGORIES: Final[tuple[str, ...]] = tuple(dict.fromkeys(c.category for c in VOCABULARY))

_CONCEPT_RANK: Final[dict[str, int]] = {
    normalize_descriptor(c.text): rank for rank, c in enumerate(VOCABULARY)
}


def concept_rank(text: str) -> int | None:
    """Popularity rank (0 = most common) of the concept a text spells, if any."""
    return _CONCEPT_RANK.get(normalize_descriptor(text))


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------

#: Item categories and their share of sources.
ITEM_CATEGORIES: Final[tuple[tuple[str, float], ...]] = (
    ("whiskey", 22.0),
    ("wine", 19.0),
    ("coffee", 18.0),
    ("beer", 9.0),
    ("tea", 7.0),
    ("gin", 4.0),
    ("rum", 4.0),
    ("chocolate", 4.0),
    ("mezcal", 3.0),
    ("cheese", 3.0),
    ("tequila", 2.5),
    ("cognac", 1.5),
    ("sake", 1.5),
    ("cider", 1.5),
)

# How much more (or less) likely each concept category is for an item category.
_AFFINITY: Final[dict[str, dict[str, float]]] = {
    "whiskey": {
        "Woody": 3.0,
        "Sweet": 2.0,
        "Spicy": 1.6,
        "Roasted": 1.6,
        "Nutty": 1.3,
        "Floral": 0.6,
        "Herbal": 0.6,
        "Dairy": 0.7,
    },
    "wine": {
        "Fruity": 3.0,
        "Earthy": 1.6,
        "Floral": 1.5,
        "Texture": 1.6,
        "Roasted": 0.4,
        "Dairy": 0.6,
        "Nutty": 0.7,
    },
    "coffee": {
        "Roasted": 3.0,
        "Nutty": 2.0,
        "Sweet": 1.8,
        "Fruity": 1.3,
        "Woody": 0.4,
        "Spicy": 0.7,
        "Dairy": 1.2,
    },
    "beer": {
        "Roasted": 2.2,
        "Herbal": 1.6,
        "Fruity": 1.3,
        "Texture": 1.5,
        "Woody": 0.5,
        "Dairy": 0.6,
    },
    "tea": {"Herbal": 3.0, "Floral": 2.6, "Roasted": 1.2, "Woody": 0.8, "Dairy": 0.3, "Spicy": 0.7},
    "gin": {
        "Herbal": 3.0,
        "Spicy": 2.0,
        "Floral": 2.0,
        "Fruity": 1.2,
        "Roasted": 0.2,
        "Dairy": 0.2,
        "Woody": 0.6,
    },
    "rum": {"Sweet": 3.0, "Fruity": 2.0, "Spicy": 1.5, "Woody": 1.2, "Herbal": 0.5},
    "chocolate": {
        "Roasted": 2.2,
        "Sweet": 2.0,
        "Nutty": 2.0,
        "Fruity": 1.4,
        "Dairy": 1.5,
        "Woody": 0.4,
        "Herbal": 0.4,
    },
    "mezcal": {
        "Roasted": 3.0,
        "Earthy": 2.0,
        "Herbal": 1.5,
        "Spicy": 1.5,
        "Sweet": 0.7,
        "Dairy": 0.3,
    },
    "cheese": {
        "Dairy": 3.5,
        "Nutty": 2.0,
        "Earthy": 2.0,
        "Herbal": 1.0,
        "Roasted": 0.5,
        "Floral": 0.5,
        "Woody": 0.3,
        "Spicy": 0.6,
    },
    "tequila": {
        "Herbal": 2.0,
        "Spicy": 1.8,
        "Fruity": 1.5,
        "Earthy": 1.5,
        "Sweet": 1.2,
        "Dairy": 0.3,
    },
    "cognac": {"Fruity": 2.2, "Woody": 2.2, "Sweet": 1.8, "Floral": 1.3, "Spicy": 1.3},
    "sake": {
        "Fruity": 2.0,
        "Floral": 1.8,
        "Dairy": 1.5,
        "Herbal": 1.2,
        "Roasted": 0.8,
        "Woody": 0.3,
    },
    "cider": {
        "Fruity": 3.5,
        "Floral": 1.4,
        "Earthy": 1.2,
        "Texture": 1.5,
        "Roasted": 0.2,
        "Dairy": 0.4,
    },
}

_ITEM_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "whiskey": (
        "{distillery} {age} Single Malt",
        "{distillery} {age} Year Old",
        "{distillery} {age} {finish}",
        "{distillery} {expression}",
        "{region} {age} Single Malt",
        "{surname}'s {bourbon} Bourbon",
        "Old {surname} {bourbon}",
        "{surname} Creek {age} Year Bourbon",
        "{surname} Straight Rye {age}",
    ),
    "wine": (
        "{estate} {varietal} {vintage}",
        "{estate} {region_w} {vintage}",
        "{estate} Reserve {varietal} {vintage}",
    ),
    "coffee": (
        "{origin} {farm} {process}",
        "{origin} {farm} {variety} {process}",
        "{roaster} {blend} Blend",
        "{roaster} {origin} {process}",
    ),
    "beer": (
        "{brewery} {style}",
        "{brewery} {adjective} {style}",
        "{brewery} Barrel-Aged {style}",
    ),
    "tea": (
        "{tea_origin} {tea_grade}",
        "{tea_estate} {tea_grade}",
        "{tea_origin} {tea_estate} {tea_grade}",
    ),
    "gin": (
        "{gin_brand} {gin_style}",
        "{gin_brand} {botanical} Gin",
    ),
    "rum": (
        "{rum_brand} {age} Year Añejo",
        "{rum_brand} {rum_style}",
    ),
    "chocolate": (
        "{choc_brand} {pct}% {choc_origin}",
        "{choc_brand} {choc_style}",
    ),
    "mezcal": (
        "{mezcal_brand} {agave}",
        "{mezcal_brand} {agave} {mezcal_village}",
    ),
    "cheese": (
        "{farm_c} {cheese_style}",
        "{farm_c} {cheese_style} {months} Month",
    ),
    "tequila": ("{tequila_brand} {tequila_class}",),
    "cognac": ("{cognac_house} {cognac_grade}", "{cognac_house} {cognac_grade} {cru}"),
    "sake": ("{sake_brewery} {sake_grade}",),
    "cider": ("{orchard} {cider_style}",),
}

_ITEM_PARTS: Final[dict[str, str]] = {
    "distillery": "Glenmorrach, Ardbrae, Loch Fenn, Ben Corrach, Kilbrannan, Strathdun,"
    " Glen Torrin, Auchenmore, Dalmorrach, Port Ellister, Caol Ruadh, Bunnach, Inverallt,"
    " Craigmhor, Balnacraig, Tullochbeg, Glen Skerra, Ardnamurn",
    "age": "8, 10, 12, 14, 15, 16, 18, 21, 25",
    "finish": "Sherry Cask, Port Finish, Cask Strength, Peated, Double Cask, Madeira Finish,"
    " Rum Cask, Oloroso Matured, Virgin Oak",
    "expression": "Founder's Reserve, Heritage, Quarter Cask, Harbour Edition, Stormcrest,"
    " Distiller's Edition, Batch 7, Smoke Signal, Old Warehouse",
    "region": "Highland, Speyside, Islay, Lowland, Campbeltown, Island",
    "surname": "Hollis, Calder, Marsh, Whitlock, Barrow, Pruitt, Caldwell, Hensley, Duncan,"
    " Ashby, Rourke, Tilden, Boone, Larkin, Garrett",
    "bourbon": "Small Batch, Single Barrel, Bottled in Bond, Barrel Proof, Wheated, High Rye",
    "estate": "Domaine Belcour, Château Lavergne, Bodega Valle Escondido, Tenuta Colle Rosso,"
    " Weingut Sonnenhang, Quinta da Serra, Cedar Ridge Cellars, Blackstone Hill,"
    " Maison Varenne, Ashgrove Estate, Bodegas Altamira, Stonefield Vineyards",
    "varietal": "Pinot Noir, Cabernet Sauvignon, Syrah, Malbec, Riesling, Chardonnay,"
    " Sauvignon Blanc, Grenache, Tempranillo, Nebbiolo, Sangiovese, Chenin Blanc,"
    " Gamay, Zinfandel, Merlot, Grüner Veltliner, Rosé",
    "region_w": "Côtes du Rhône, Rioja Reserva, Barolo, Mosel Kabinett, Napa Valley,"
    " Mendoza, Sancerre, Chianti Classico, Douro Tinto, Willamette Valley",
    "vintage": "2012, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022",
    "origin": "Ethiopia, Kenya, Colombia, Guatemala, Costa Rica, Brazil, Rwanda, Burundi,"
    " Panama, Honduras, Peru, Sumatra, Yemen, El Salvador",
    "farm": "Guji, Yirgacheffe, Sidama, Nyeri, Kirinyaga, Huila, Nariño, Antigua, Tarrazú,"
    " Cerrado, Boquete, Santa Barbara, Cajamarca, Kayanza, Finca La Esperanza,"
    " Finca El Mirador, Hacienda Alsacia",
    "variety": "Gesha, Bourbon, Caturra, SL28, Pacamara, Typica, Heirloom",
    "process": "Washed, Natural, Honey, Anaerobic Natural, Wet Hulled, Black Honey",
    "roaster": "Ridgeline, Copper Pot, North Harbor, Little Owl, Blue Ember, Fieldwork",
    "blend": "Morning, House Espresso, Dark Harbor, Sunday, Decaf Swiss Water, Crema",
    "brewery": "Foggy Hollow, Iron Gate, Copper Kettle, Lantern Hill, Old Mill,"
    " Crooked Pine, Black Anchor, Saltmarsh, Highfield, Red Barn",
    "adjective": "Hazy, Imperial, Double, Session, Dry-Hopped, Oak-Aged, Smoked",
    "style": "IPA, Stout, Porter, Pilsner, Saison, Dubbel, Tripel, Märzen, Gose, Sour Ale,"
    " Brown Ale, Barleywine, Hefeweizen, Pale Ale, Lambic",
    "tea_origin": "Yunnan, Darjeeling, Assam, Uji, Fujian, Anxi, Wuyi, Nilgiri, Ceylon,"
    " Shizuoka, Taiwan",
    "tea_estate": "Jade Mountain, Golden Valley, Misty Peak, Cloud Ridge, Temple Garden,"
    " River Terrace",
    "tea_grade": "Golden Needle, First Flush, Second Flush, Oolong, Sencha, Gyokuro,"
    " Ceremonial Matcha, Silver Needle, Dian Hong, Lapsang Souchong, Tieguanyin,"
    " Da Hong Pao, Shou Pu-erh, Breakfast Blend",
    "gin_brand": "Harbour Lights, Fenwick, Wild Thistle, Blackwater, Copperfield, Old Quay",
    "gin_style": "London Dry, Navy Strength, Old Tom, Sloe Gin, Barrel Rested, Pink Gin",
    "botanical": "Juniper & Citrus, Seaweed, Rhubarb, Yuzu, Lavender, Cardamom",
    "rum_brand": "Isla Verde, Captain Morrow, Barbados Reef, Caña Negra, Demerara Sun",
    "rum_style": "Spiced, Overproof, Agricole Blanc, Dark Navy, Pot Still Gold, Demerara",
    "choc_brand": "Cacao Verde, Bean & Bloom, Marlow Craft, Terra Nibs, Dark Orchard",
    "pct": "55, 64, 70, 72, 75, 80, 85, 100",
    "choc_origin": "Madagascar, Ecuador, Peru, Tanzania, Vietnam, Dominican Republic, Ghana,"
    " Belize",
    "choc_style": "Milk 45%, Sea Salt Caramel, Hazelnut Praline, Dark Mint, Orange Dark",
    "mezcal_brand": "Rancho Viejo, Palenque Azul, Cielo de Oaxaca, Tierra Roja, Don Aurelio",
    "agave": "Espadín, Tobalá, Cuishe, Madrecuixe, Tepeztate, Ensamble, Arroqueño",
    "mezcal_village": "Santiago Matatlán, Miahuatlán, Sola de Vega, Ejutla",
    "farm_c": "Hillcrest, Meadowbrook, Alpine Valley, Old Farm, Ridgeback, Stonewall",
    "cheese_style": "Clothbound Cheddar, Aged Gouda, Alpine Tomme, Washed Rind, Blue,"
    " Bloomy Rind, Manchego-Style, Gruyère-Style",
    "months": "6, 9, 12, 18, 24, 36",
    "tequila_brand": "Agave Alto, Casa Serrano, Los Altos Rojos, Hacienda Lucero",
    "tequila_class": "Blanco, Reposado, Añejo, Extra Añejo, Cristalino",
    "cognac_house": "Maison Delaunay, Roussel Frères, Pierre Marceau, Logis de Vallon",
    "cognac_grade": "VS, VSOP, XO, Napoléon, Hors d'Age",
    "cru": "Grande Champagne, Petite Champagne, Fins Bois, Borderies",
    "sake_brewery": "Yukimura, Kurayama, Shiratsuyu, Hoshikawa, Mizuho",
    "sake_grade": "Junmai Daiginjo, Junmai Ginjo, Junmai, Honjozo, Nigori, Kimoto Junmai",
    "orchard": "Brambleside, Apple Hollow, Long Meadow, Westcombe Press, Kingfisher Farm",
    "cider_style": "Dry Cider, Farmhouse Cider, Perry, Ice Cider, Keeved Cider, Scrumpy",
}


@lru_cache(maxsize=1)
def _item_pools() -> dict[str, tuple[str, ...]]:
    """A fixed pool of plausible item names per item category."""
    rng = random.Random(7_031)
    parts = {key: tuple(_split(value, ",")) for key, value in _ITEM_PARTS.items()}
    pools: dict[str, tuple[str, ...]] = {}
    for category, _weight in ITEM_CATEGORIES:
        templates = _ITEM_TEMPLATES[category]
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
        affinity = _AFFINITY.get(item_category, {})
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
