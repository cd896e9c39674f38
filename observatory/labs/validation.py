"""What a submission may say, checked field by field with messages a person can act on.

Nothing here touches the network or the database: it turns untrusted JSON or form data into a
SubmissionRequest, or raises Invalid with one message per bad field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from gpu_workers.models import ProbeKind
from observatory import vocab

MAX_HUB_ID = vocab.HUB_ID_MAX_LENGTH
MAX_REVISION = 200
MAX_ACCESS_TOKEN = 256
MAX_BODY_BYTES = 16 * 1024
PROBES = [kind.value for kind in ProbeKind]
VISIBILITIES = ("private", "public")
FIELDS = ("hub_id", "revision", "probes", "visibility", "access_token", "config")

# The Hub's repo-id rule (observatory/vocab.py); the checks below only name which part of it failed.
# Git ref names as the Hub accepts them for branches/tags (e.g. main, v1.0, refs/pr/3) or a commit.
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_ACCESS_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
# Per-probe options a lab may set; everything else in a probe's config is the project's fixed default.
# An integer option is (low, high); a text option is the tuple of its allowed values.
CONFIG_KNOBS = {"benchmark": {"limit": (1, 10_000),
                              "item_set": ("benchmark-v1", "hellaswag", "mmlu-redux", "gsm8k")}}


class Invalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class SubmissionRequest:
    hub_id: str
    revision: str = ""
    probes: tuple[str, ...] = ("tooling",)
    visibility: str = "private"
    access_token: str = ""
    config: dict = field(default_factory=dict)


def _has_control_or_space(value: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in value)


def check_hub_id(value) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("required: a Hub model id like 'namespace/name'")
    if len(value) > MAX_HUB_ID:
        raise ValueError(f"too long ({len(value)} characters; at most {MAX_HUB_ID})")
    if _has_control_or_space(value):
        raise ValueError("must not contain whitespace or control characters")
    parts = value.split("/")
    if len(parts) != 2:
        raise ValueError("must be exactly 'namespace/name' (one '/'; no paths)")
    if ".." in value or "--" in value:
        raise ValueError("must not contain '..' or '--'")
    for part in parts:
        if not vocab.HUB_NAMESPACE.match(part):
            raise ValueError(
                f"{part!r} is not a valid Hub name: 1-96 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter, digit or '_'"
            )
    if not vocab.is_hub_id(value):
        raise ValueError("must not end with '.git'")
    return value


def check_revision(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError("must be a string: a branch, tag or commit sha")
    if len(value) > MAX_REVISION:
        raise ValueError(f"too long ({len(value)} characters; at most {MAX_REVISION})")
    if _has_control_or_space(value):
        raise ValueError("must not contain whitespace or control characters")
    if (not _REVISION.match(value) or ".." in value or "//" in value or value.endswith(("/", ".", ".lock"))
            or "@{" in value):
        raise ValueError("not a valid branch, tag or commit name (letters, digits, '.', '_', '-', '/'; no '..')")
    return value


def check_probes(value) -> tuple[str, ...]:
    if value is None:
        return ("tooling",)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"give a non-empty list of probes from {PROBES}")
    if len(value) > len(PROBES):
        raise ValueError(f"at most {len(PROBES)} probes")
    chosen = []
    for item in value:
        if not isinstance(item, str) or item not in PROBES:
            shown = repr(item)[:40]
            raise ValueError(f"unknown probe {shown}; choose from {PROBES}")
        if item in chosen:
            raise ValueError(f"probe {item!r} listed twice")
        chosen.append(item)
    return tuple(sorted(chosen))


def check_visibility(value) -> str:
    if value is None or value == "":
        return "private"
    if value not in VISIBILITIES:
        raise ValueError("must be 'private' (the lab only, until published) or 'public'")
    return value


def check_access_token(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if len(value) > MAX_ACCESS_TOKEN:
        raise ValueError(f"too long (at most {MAX_ACCESS_TOKEN} characters)")
    if not _ACCESS_TOKEN.match(value):
        raise ValueError("not a Hub access token (8-256 letters, digits, '_' or '-')")
    return value


def check_config(value, probes: tuple[str, ...]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be an object: {probe: {option: value}}")
    config: dict[str, dict] = {}
    for probe, options in value.items():
        if probe not in probes:
            raise ValueError(f"config for {str(probe)[:40]!r}, which is not among the chosen probes")
        if not isinstance(options, dict):
            raise ValueError(f"config for {probe!r} must be an object")
        knobs = CONFIG_KNOBS.get(probe, {})
        for key, option in options.items():
            if key not in knobs:
                allowed = sorted(knobs) or "none"
                raise ValueError(f"{probe}: unknown option {str(key)[:40]!r} (settable: {allowed})")
            if all(isinstance(v, str) for v in knobs[key]):
                if option not in knobs[key]:
                    raise ValueError(f"{probe}.{key} must be one of {', '.join(knobs[key])}")
                continue
            low, high = knobs[key]
            if isinstance(option, bool) or not isinstance(option, int) or not low <= option <= high:
                raise ValueError(f"{probe}.{key} must be an integer from {low} to {high}")
        if options:
            config[probe] = dict(sorted(options.items()))
    return config


def parse_submission(data) -> SubmissionRequest:
    """Validate a decoded JSON body (or form data mapped to the same keys)."""
    if not isinstance(data, dict):
        raise Invalid({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    unknown = [str(k)[:40] for k in data if k not in FIELDS]
    if unknown:
        errors["body"] = f"unknown fields {unknown[:5]}; allowed: {list(FIELDS)}"
    values = {}
    for name, check in (("hub_id", check_hub_id), ("revision", check_revision), ("probes", check_probes),
                        ("visibility", check_visibility), ("access_token", check_access_token)):
        try:
            values[name] = check(data.get(name))
        except ValueError as exc:
            errors[name] = str(exc)
    if "probes" in values:
        try:
            values["config"] = check_config(data.get("config"), values["probes"])
        except ValueError as exc:
            errors["config"] = str(exc)
    if errors:
        raise Invalid(errors)
    return SubmissionRequest(**values)
