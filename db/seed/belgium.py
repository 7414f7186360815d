"""Belgian details for synthetic data: KBO/BCE enterprise numbers, phone numbers, the language mix."""

from __future__ import annotations

import random

# Belgium's portal users write French, Dutch or English; Faker locale per portal language.
FAKER_LOCALES: dict[str, str] = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_GB"}
# Roughly Belgium's split (Flanders, Wallonia + Brussels, expats).
LANGUAGE_WEIGHTS: dict[str, int] = {"nl": 55, "fr": 38, "en": 7}


def enterprise_check_digits(first_eight: int) -> int:
    """The KBO/BCE check number: 97 - (first eight digits mod 97), so always in 1..97."""
    if not 0 <= first_eight < 100_000_000:
        raise ValueError(f"an enterprise number starts with 8 digits, got {first_eight}")
    return 97 - first_eight % 97


def enterprise_number(first_eight: int) -> str:
    """The formatted number `0xxx.xxx.xxx` (the schema's form); the first digit must be 0 or 1."""
    if not 0 <= first_eight < 20_000_000:
        raise ValueError(f"Belgian enterprise numbers start with 0 or 1, got prefix {first_eight:08d}")
    digits = f"{first_eight:08d}{enterprise_check_digits(first_eight):02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def is_valid_enterprise_number(number: str) -> bool:
    """Mirror of private.is_valid_be_enterprise_number (db/schema/0002)."""
    if len(number) != 12 or number[4] != "." or number[8] != ".":
        return False
    digits = number.replace(".", "")
    if not digits.isascii() or not digits.isdigit() or digits[0] not in "01":
        return False
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


# Prefixes of real, currently issued numbers (0200.000.000 onwards); the demo world uses its own block at
# the top of the range, which synthetic worlds never draw from, so both can live in one database.
SYNTHETIC_PREFIXES = range(2_000_000, 19_990_000)
DEMO_PREFIXES = range(19_990_000, 20_000_000)
# Test worlds (db/testing_world.py): 0100.000.0xx to 0199.999.9xx, below every number ever issued.
TEST_PREFIXES = range(1_000_000, 2_000_000)


# Brussels, Antwerp, Ghent, Liège, Leuven, Namur, Bruges (area code, digits after it).
_LANDLINE_AREAS: tuple[tuple[str, int], ...] = (
    ("2", 7),
    ("3", 7),
    ("9", 7),
    ("4", 7),
    ("16", 6),
    ("81", 6),
    ("50", 6),
)


def phone_number(rng: random.Random) -> str:
    """An international Belgian number: mobile (+32 4xx xx xx xx) two times in three, else a landline."""
    if rng.random() < 2 / 3:
        rest = f"{rng.randrange(1_000_000):06d}"
        return f"+32 4{rng.randrange(60, 100)} {rest[:2]} {rest[2:4]} {rest[4:]}"
    area, length = _LANDLINE_AREAS[rng.randrange(len(_LANDLINE_AREAS))]
    rest = f"{rng.randrange(10**length):0{length}d}"
    if length == 7:
        return f"+32 {area} {rest[:3]} {rest[3:5]} {rest[5:]}"
    return f"+32 {area} {rest[:2]} {rest[2:4]} {rest[4:]}"


def pick_language(rng: random.Random) -> str:
    return rng.choices(tuple(LANGUAGE_WEIGHTS), weights=tuple(LANGUAGE_WEIGHTS.values()))[0]
