"""The project's vocabulary, in one place: regions, size classes, licence classes and the conflict
rule, the open/closed-gap sources, and the Hub's id and namespace rules.

Pure Python (no Django): probes, importers, analytics, model choices, query parameters, the read
API and its OpenAPI document all read these names, so a value or a label changes here or nowhere.
Order matters wherever a tuple is given: it is the order charts, filters and choices show.
"""

from __future__ import annotations

import re

# --- regions ------------------------------------------------------------------------------------

REGIONS: tuple[tuple[str, str], ...] = (
    ("us", "United States"),
    ("china", "China"),
    ("eu", "Europe"),
    ("other", "Other"),
    ("unknown", "Unknown"),
)
REGION_VALUES: tuple[str, ...] = tuple(value for value, _label in REGIONS)
REGION_LABELS: dict[str, str] = dict(REGIONS)

# --- size classes -------------------------------------------------------------------------------

# ATOM's size classes by total parameters in billions. Each bound is exclusive and opens the next
# class: a model of exactly 5B is "7-9B" (ATOM names the class by the sizes released in it).
SIZE_CLASS_BOUNDS: tuple[tuple[float, str], ...] = (
    (1.0, "<1B"),
    (5.0, "1-5B"),
    (10.0, "7-9B"),
    (50.0, "10-50B"),
    (100.0, "50-100B"),
    (250.0, "100-250B"),
)
LARGEST_SIZE_CLASS = "250B+"
SIZE_CLASS_VALUES: tuple[str, ...] = (*(label for _bound, label in SIZE_CLASS_BOUNDS), LARGEST_SIZE_CLASS)
# (value, label): the label is the value.
SIZE_CLASSES: tuple[tuple[str, str], ...] = tuple((value, value) for value in SIZE_CLASS_VALUES)


def size_class(total_params_b: float | None) -> str:
    """ATOM's size class for a total parameter count in billions; '' when unknown (None or <= 0)."""
    if total_params_b is None or total_params_b <= 0:
        return ""
    for bound, label in SIZE_CLASS_BOUNDS:
        if total_params_b < bound:
            return label
    return LARGEST_SIZE_CLASS


# --- licence classes ----------------------------------------------------------------------------

PERMISSIVE = "permissive"
COPYLEFT = "copyleft"
NON_COMMERCIAL = "non-commercial"
RESTRICTED = "restricted"
UNKNOWN = "unknown"

# (value, label), in the order of the catalog's choices (its migrations record this order).
LICENCE_CLASSES: tuple[tuple[str, str], ...] = (
    (PERMISSIVE, "Permissive"),
    (COPYLEFT, "Copyleft"),
    (NON_COMMERCIAL, "Non-commercial"),
    (RESTRICTED, "Restricted (custom terms)"),
    (UNKNOWN, "Unknown"),
)
LICENCE_CLASS_VALUES: tuple[str, ...] = tuple(value for value, _label in LICENCE_CLASSES)

# How much a licence class allows, most first: the one ranking. `unknown` has no rank: a licence
# nobody could read is never judged more or less permissive than another.
PERMISSIVENESS: dict[str, int] = {PERMISSIVE: 3, COPYLEFT: 2, RESTRICTED: 1, NON_COMMERCIAL: 0}
# The order the licence mix shows its classes: by permissiveness, then unknown.
LICENCE_CLASS_DISPLAY_ORDER: tuple[str, ...] = (*PERMISSIVENESS, UNKNOWN)


def is_licence_conflict(child_class: str, parent_class: str) -> bool:
    """A derivative (child) whose licence class allows more than its base's (parent's).

    Both classes must be ranked: an unknown class on either side is never a conflict. A permissive
    base never has one (nothing allows more).
    """
    child, parent = PERMISSIVENESS.get(child_class), PERMISSIVENESS.get(parent_class)
    return child is not None and parent is not None and child > parent


# Every (child class, parent class) pair the rule flags, for the SQL and dataframe forms of it.
LICENCE_CONFLICT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    (child, parent) for child in PERMISSIVENESS for parent in PERMISSIVENESS if is_licence_conflict(child, parent)
)

# --- the open/closed gap ------------------------------------------------------------------------

# Leaderboards the gap can be measured on (the `source` query parameter), and the default.
GAP_SOURCES: tuple[str, ...] = ("lmarena", "epoch-eci", "probe")
DEFAULT_GAP_SOURCE = "epoch-eci"

# --- the Hub's repo ids -------------------------------------------------------------------------
# The rule huggingface_hub's `validate_repo_id` applies (and the Hub itself, see that function's
# notes): `namespace/name`, each part 1-96 ASCII letters, digits, '_', '-' or '.', starting and
# ending with a letter, digit or '_' (so `_Spydaz_...` is valid), no '--' or '..' anywhere (so no
# path traversal), no '.git' at the end. tests/crawler/test_hub_ids.py holds these expressions
# against the installed huggingface_hub.

HUB_ID_PART_MAX = 96
HUB_ID_MAX_LENGTH = 2 * HUB_ID_PART_MAX + 1

_NAME = rf"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{{0,{HUB_ID_PART_MAX - 2}}}[A-Za-z0-9_])?"
_NO_DOUBLES = r"(?!.*(?:--|\.\.))"


def _hub_pattern(body: str, end: str) -> str:
    return rf"^{_NO_DOUBLES}(?!.*\.git{end}){body}{end}"


# Python expressions end with \Z ('$' would accept a trailing newline); the documented ones with '$'
# (ECMA-262, as OpenAPI's `pattern` is read).
HUB_ID = re.compile(_hub_pattern(rf"{_NAME}/{_NAME}", r"\Z"))
# Legacy canonical repos have no namespace (`gpt2`, `t5-small`); lineage still names them.
HUB_ID_OR_LEGACY = re.compile(_hub_pattern(rf"(?:{_NAME}/)?{_NAME}", r"\Z"))
HUB_NAMESPACE = re.compile(rf"^{_NO_DOUBLES}{_NAME}\Z")
HUB_NAME = re.compile(_hub_pattern(_NAME, r"\Z"))
HUB_ID_PATTERN = _hub_pattern(rf"{_NAME}/{_NAME}", "$")
HUB_NAMESPACE_PATTERN = rf"^{_NO_DOUBLES}{_NAME}$"
HUB_NAME_PATTERN = _hub_pattern(_NAME, "$")
HUB_ID_DESCRIPTION = ("namespace/name, each 1-96 of letters, digits, '_', '-', '.', starting and ending with a "
                      "letter, digit or '_'; no '--' or '..'; not ending in '.git' (the Hub's rule)")


def is_hub_id(value: object, *, legacy: bool = False) -> bool:
    """`namespace/name` as the Hub allows it (with legacy=True also a bare legacy name)."""
    return isinstance(value, str) and bool((HUB_ID_OR_LEGACY if legacy else HUB_ID).match(value))


def hub_id_key(hub_id: str) -> str:
    """What every spelling of one repo shares: Hub ids resolve case-insensitively (`Qwen/qwen2.5-7b`
    is `Qwen/Qwen2.5-7B`). They are ASCII, so lower() is the case fold (and agrees with SQL's
    lower() on PostgreSQL and SQLite)."""
    return hub_id.lower()
