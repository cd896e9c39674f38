"""Licence strings from the Hub → a normalised id and exactly one class.

The Hub's `license` field is free-form: an SPDX-like id, a list, `other` with `license_name`
and `license_link`, a custom name, or nothing. The class decides what analysts can do with a model:
permissive, copyleft, non-commercial, restricted (custom terms with use or commercial
restrictions: Llama, Gemma, RAIL, Qwen research…), unknown.
"""

from __future__ import annotations

import re

# The classes, their ranking and the conflict rule are the vocabulary's (observatory/vocab.py).
from observatory.vocab import COPYLEFT, NON_COMMERCIAL, PERMISSIVE, PERMISSIVENESS, RESTRICTED, UNKNOWN

_EXACT: dict[str, str] = {
    # permissive
    "apache-2.0": PERMISSIVE, "mit": PERMISSIVE, "bsd": PERMISSIVE, "bsd-2-clause": PERMISSIVE,
    "bsd-3-clause": PERMISSIVE, "bsd-3-clause-clear": PERMISSIVE, "isc": PERMISSIVE, "unlicense": PERMISSIVE,
    "wtfpl": PERMISSIVE, "cc0-1.0": PERMISSIVE, "cc-by-4.0": PERMISSIVE, "cc-by-3.0": PERMISSIVE,
    "cc-by-2.0": PERMISSIVE, "afl-3.0": PERMISSIVE, "bsl-1.0": PERMISSIVE, "zlib": PERMISSIVE,
    "artistic-2.0": PERMISSIVE, "ecl-2.0": PERMISSIVE, "pddl": PERMISSIVE, "odc-by": PERMISSIVE,
    "postgresql": PERMISSIVE, "ncsa": PERMISSIVE, "ms-pl": PERMISSIVE, "openmdw-1.0": PERMISSIVE,
    "modified-mit": PERMISSIVE, "apple-ascl": PERMISSIVE, "upl-1.0": PERMISSIVE,
    # copyleft
    "gpl": COPYLEFT, "gpl-2.0": COPYLEFT, "gpl-3.0": COPYLEFT, "lgpl": COPYLEFT, "lgpl-2.1": COPYLEFT,
    "lgpl-3.0": COPYLEFT, "lgpl-lr": COPYLEFT, "agpl-3.0": COPYLEFT, "mpl-2.0": COPYLEFT, "epl-1.0": COPYLEFT,
    "epl-2.0": COPYLEFT, "eupl-1.1": COPYLEFT, "eupl-1.2": COPYLEFT, "cc-by-sa-4.0": COPYLEFT,
    "cc-by-sa-3.0": COPYLEFT, "osl-3.0": COPYLEFT, "odbl": COPYLEFT, "cecill": COPYLEFT, "gfdl": COPYLEFT,
    # non-commercial
    "cc-by-nc-4.0": NON_COMMERCIAL, "cc-by-nc-3.0": NON_COMMERCIAL, "cc-by-nc-2.0": NON_COMMERCIAL,
    "cc-by-nc-sa-4.0": NON_COMMERCIAL, "cc-by-nc-sa-3.0": NON_COMMERCIAL, "cc-by-nc-sa-2.0": NON_COMMERCIAL,
    "cc-by-nc-nd-4.0": NON_COMMERCIAL, "cc-by-nc-nd-3.0": NON_COMMERCIAL, "cc-by-nd-4.0": NON_COMMERCIAL,
    "flux-1-dev-non-commercial-license": NON_COMMERCIAL, "microsoft-research-license": NON_COMMERCIAL,
    "msrla": NON_COMMERCIAL, "qwen-research": NON_COMMERCIAL, "tongyi-qianwen-research": NON_COMMERCIAL,
    "katanemo-research": NON_COMMERCIAL, "mnpl": NON_COMMERCIAL, "mrl": NON_COMMERCIAL,
    "ai2-impact-license-low-risk": RESTRICTED, "exaone": NON_COMMERCIAL, "cogvlm2": RESTRICTED,
    # restricted: custom terms with use or commercial restrictions
    "llama2": RESTRICTED, "llama3": RESTRICTED, "llama3.1": RESTRICTED, "llama3.2": RESTRICTED,
    "llama3.3": RESTRICTED, "llama4": RESTRICTED, "llama": RESTRICTED, "llama-3": RESTRICTED,
    "gemma": RESTRICTED, "gemma-terms-of-use": RESTRICTED, "health-ai-developer-foundations": RESTRICTED,
    "openrail": RESTRICTED, "openrail++": RESTRICTED, "creativeml-openrail-m": RESTRICTED,
    "bigscience-openrail-m": RESTRICTED, "bigscience-bloom-rail-1.0": RESTRICTED, "bigcode-openrail-m": RESTRICTED,
    "deepfloyd-if-license": RESTRICTED, "tongyi-qianwen": RESTRICTED, "tongyi-qianwen-license-agreement": RESTRICTED,
    "qwen": RESTRICTED, "qwen2": RESTRICTED, "quwen": RESTRICTED, "deepseek": RESTRICTED,
    "deepseek-license": RESTRICTED, "falcon-llm-license": RESTRICTED, "falcon-mamba-7b-license": RESTRICTED,
    "nvidia-open-model-license": RESTRICTED, "nvidia-nemotron-open-model-license": RESTRICTED,
    "yi-license": RESTRICTED, "glm-4": RESTRICTED, "baichuan2-community-license": RESTRICTED,
    "stabilityai-ai-community": RESTRICTED, "lfm1.0": RESTRICTED, "seallms": RESTRICTED,
    "helpingai": RESTRICTED, "eva-llama3.3": RESTRICTED, "ghost-open-llms": RESTRICTED,
    "apple-amlr": NON_COMMERCIAL,
    # nothing to go on
    "unknown": UNKNOWN, "other": UNKNOWN,
}

# Families of custom licences, for names not in the table above (checked in order).
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"non[-_ ]?commercial|research[-_ ]only|\bnc\b|-nc-|research"), NON_COMMERCIAL),
    (re.compile(r"^(llama|meta-llama)|llama[-_]?\d|gemma|rail|openrail|qwen|deepseek|falcon|nvidia|yi-|glm|baichuan|"
                r"community|acceptable[-_ ]use|custom"), RESTRICTED),
    (re.compile(r"^(apache|mit|bsd)"), PERMISSIVE),
    (re.compile(r"^(a?gpl|lgpl|mpl|cc-by-sa)"), COPYLEFT),
]


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text or text in {"none", "null", "nan"}:
        return None
    return text[:96]


def classify_id(licence_id: str | None) -> str:
    if licence_id is None:
        return UNKNOWN
    if licence_id in _EXACT:
        return _EXACT[licence_id]
    for pattern, licence_class in _PATTERNS:
        if pattern.search(licence_id):
            return licence_class
    return UNKNOWN


def normalise_licence(raw: object, *, license_name: object = None, license_link: object = None) -> tuple[str, str]:
    """(licence_id, licence_class). `raw` may be a string, a list of strings, or None.

    `other` means "see license_name": the custom name is the real id when given. A list takes its
    most restrictive member (a model under two licences must satisfy both).
    """
    if isinstance(raw, (list, tuple)):
        candidates = [normalise_licence(item, license_name=license_name) for item in raw if _clean(item)]
        if not candidates:
            return normalise_licence(None, license_name=license_name)
        return min(candidates, key=lambda pair: (PERMISSIVENESS[pair[1]] if pair[1] != UNKNOWN else 99))
    licence_id = _clean(raw)
    name = _clean(license_name)
    if (licence_id in (None, "other") or licence_id is None) and name and name != "license":
        licence_id = name
    if licence_id is None:
        return "", UNKNOWN
    return licence_id, classify_id(licence_id)


def licence_raw_text(raw: object, license_name: object = None) -> str:
    """What we keep as the raw licence: the string(s) as found, plus the custom name if any."""
    if raw is None:
        text = ""
    elif isinstance(raw, (list, tuple)):
        text = ",".join(str(item) for item in raw)
    else:
        text = str(raw)
    if license_name:
        text = f"{text} ({license_name})" if text else f"({license_name})"
    return text[:2000]
