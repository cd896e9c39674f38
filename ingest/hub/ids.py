"""The Hub's repo-id rule: the one copy every endpoint, importer, form and probe source uses.

Django-free (probes/ imports it). It is the rule huggingface_hub's `validate_repo_id` applies (and
the Hub itself, see that function's notes): `namespace/name`, each part 1-96 ASCII letters,
digits, '_', '-' or '.', starting and ending with a letter, digit or '_' (so `_Spydaz_...` is
valid), no '--' or '..' anywhere (so no path traversal), no '.git' at the end. The test
tests/crawler/test_hub_ids.py holds this expression against the installed huggingface_hub.

Hub ids resolve case-insensitively (`Qwen/qwen2.5-7b` is `Qwen/Qwen2.5-7B`): `key` is the form
two spellings of one repo share.
"""

from __future__ import annotations

import re

PART_MAX = 96
MAX_LENGTH = 2 * PART_MAX + 1

_NAME = rf"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{{0,{PART_MAX - 2}}}[A-Za-z0-9_])?"
_NO_DOUBLES = r"(?!.*(?:--|\.\.))"


def _pattern(body: str, end: str) -> str:
    return rf"^{_NO_DOUBLES}(?!.*\.git{end}){body}{end}"


# Python expressions end with \Z ('$' would accept a trailing newline); the documented ones with '$'
# (ECMA-262, as OpenAPI's `pattern` is read).
HUB_ID = re.compile(_pattern(rf"{_NAME}/{_NAME}", r"\Z"))
# Legacy canonical repos have no namespace (`gpt2`, `t5-small`); lineage still names them.
HUB_ID_OR_LEGACY = re.compile(_pattern(rf"(?:{_NAME}/)?{_NAME}", r"\Z"))
NAMESPACE = re.compile(rf"^{_NO_DOUBLES}{_NAME}\Z")
NAME = re.compile(_pattern(_NAME, r"\Z"))
HUB_ID_PATTERN = _pattern(rf"{_NAME}/{_NAME}", "$")
NAMESPACE_PATTERN = rf"^{_NO_DOUBLES}{_NAME}$"
NAME_PATTERN = _pattern(_NAME, "$")
DESCRIPTION = ("namespace/name, each 1-96 of letters, digits, '_', '-', '.', starting and ending with a letter, "
               "digit or '_'; no '--' or '..'; not ending in '.git' (the Hub's rule)")


def is_hub_id(value: object, *, legacy: bool = False) -> bool:
    """`namespace/name` as the Hub allows it (with legacy=True also a bare legacy name)."""
    return isinstance(value, str) and bool((HUB_ID_OR_LEGACY if legacy else HUB_ID).match(value))


def key(hub_id: str) -> str:
    """What every spelling of one repo shares. Hub ids are ASCII, so lower() is the case fold
    (and agrees with SQL's lower() on PostgreSQL and SQLite)."""
    return hub_id.lower()
