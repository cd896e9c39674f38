"""One Hub record validated and normalised into what gets written: pure Python, no database.

`prepare` turns the Hub API's field names into the HubModel columns (columns.MODEL_COLUMNS), the
stated parents and the JSON text of the list and object columns, or raises InvalidRecord naming
the field at fault. It runs on a helper thread while the previous batch is written (batches.py),
which is why it must not touch the database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import orjson

from ingest import licences
from ingest.curation import Curation, curated_fields
from ingest.lineage import HUB_ID, parse_parents


class InvalidRecord(ValueError):
    """A record that cannot be stored as it is; it is quarantined with this reason.

    `field` is the Hub field at fault (None when the record is not an object at all) and `index`
    the record's position in its batch (set by batches.prepare_batch), so a caller can name the
    row and column without validating the record again or parsing the message.
    """

    def __init__(self, field: str | None, reason: str, *, index: int | None = None):
        self.field, self.reason, self.index = field, reason, index
        super().__init__(f"{field}: {reason}" if field else reason)


@dataclass
class Prepared:
    record: dict
    hub_id: str
    namespace: str
    fields: dict
    parents: list[tuple[str, str, str]]
    lineage_known: bool
    json: dict[str, str]  # the JSON text of the list and object fields, serialised once


def _as_datetime(value: object, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRecord(field, f"not an ISO date-time: {value[:40]!r}") from None
    else:
        raise InvalidRecord(field, f"expected a date-time, got {type(value).__name__}")
    if parsed.utcoffset() is None:  # the Hub's times are UTC; a naive one is read as such
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _as_count(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidRecord(field, f"expected a count, got {value!r:.40}")
    if value < 0:
        raise InvalidRecord(field, f"negative count {value}")
    return int(value)


def _card(value: object) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            try:  # orjson is strict JSON; the Hub's cards sometimes carry NaN, which json reads
                value = json.loads(value)
            except json.JSONDecodeError:
                raise InvalidRecord("cardData", "not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRecord("cardData", f"expected an object, got {type(value).__name__}")
    return value


def _gated(value: object) -> str:
    if value in (None, False, "false", "False", ""):
        return ""
    if value is True:
        return "auto"
    return str(value)[:16]


# The card keys kept on the row: what licences, lineage and the model page read again later.
_CARD_KEYS = ("license", "license_name", "license_link", "base_model", "base_model_relation", "language",
              "pipeline_tag")


_SHA = re.compile(r"^[0-9a-f]{40}$")


def _as_sha(value: object) -> str | None:
    """The Hub's commit id (40 lower-case hex digits), or None when the record states none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SHA.match(value):
        raise InvalidRecord("sha", f"not a commit id (40 hex digits): {str(value)[:48]!r}")
    return value


def prepare(record: dict, curation: Curation) -> Prepared:
    """Validate and normalise one record. Raises InvalidRecord with a reason."""
    if not isinstance(record, dict):
        raise InvalidRecord(None, f"record is a {type(record).__name__}, not an object")
    hub_id = record.get("id") or record.get("modelId")
    if not isinstance(hub_id, str) or not HUB_ID.match(hub_id) or ".." in hub_id:
        raise InvalidRecord("id", f"not a Hub repo id: {str(hub_id)[:80]!r}")
    tags = record.get("tags") or []
    if not isinstance(tags, list) or any(type(tag) is not str for tag in tags):
        raise InvalidRecord("tags", "expected a list of strings")
    card = _card(record.get("cardData"))
    created_at = _as_datetime(record.get("createdAt"), "createdAt")
    safetensors = record.get("safetensors") or {}
    if not isinstance(safetensors, dict):
        raise InvalidRecord("safetensors", "expected an object")
    normalised = {
        **record,
        "id": hub_id,
        "tags": tags,
        "cardData": card,
        "createdAt": created_at,
        "safetensors": {"total": _as_count(safetensors.get("total"), "safetensors.total")},
        "downloadsAllTime": _as_count(record.get("downloadsAllTime"), "downloadsAllTime"),
    }
    raw_licence = card.get("license")
    if raw_licence is None:
        tag_licences = [t.split(":", 1)[1] for t in tags if t.startswith("license:")]
        raw_licence = tag_licences[0] if len(tag_licences) == 1 else (tag_licences or None)
    licence_id, licence_class = licences.normalise_licence(
        raw_licence, license_name=card.get("license_name"), license_link=card.get("license_link")
    )
    namespace = hub_id.split("/", 1)[0] if "/" in hub_id else ""
    fields = {
        "author": str(record.get("author") or namespace)[:96],
        "created_at": created_at,
        "last_modified": _as_datetime(record.get("lastModified"), "lastModified"),
        "sha": _as_sha(record.get("sha")),
        "pipeline_tag": str(record.get("pipeline_tag") or "")[:64],
        "library_name": str(record.get("library_name") or "")[:64],
        "licence_raw": licences.licence_raw_text(raw_licence, card.get("license_name")),
        "licence_id": licence_id,
        "licence_class": licence_class,
        "gated": _gated(record.get("gated")),
        "tags": tags,
        "card_data": {k: card[k] for k in _CARD_KEYS if k in card},
        "downloads": _as_count(record.get("downloads"), "downloads"),
        "downloads_all_time": normalised["downloadsAllTime"],
        "likes": _as_count(record.get("likes"), "likes"),
        **curated_fields(normalised, curation),
    }
    texts = _refuse_nul(fields)
    lineage_known = any(key in record for key in ("baseModels", "cardData", "tags"))
    return Prepared(normalised, hub_id, namespace, fields, parse_parents(normalised), lineage_known, texts)


def _refuse_nul(fields: dict) -> dict[str, str]:
    """PostgreSQL stores no NUL character in text or jsonb: such a record is quarantined, not crashed on.

    Returns the JSON text of the list and object fields, which the COPY then reuses.
    """
    texts = {}
    for key, value in fields.items():
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidRecord(key, "contains a NUL character")
        elif isinstance(value, (list, dict)):
            text = texts[key] = to_json(value)
            if "\\u0000" in text:
                raise InvalidRecord(key, "contains a NUL character")
    return texts


def to_json(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # NaN/Infinity or keys orjson refuses: the standard library copes
        return json.dumps(value, ensure_ascii=False, default=str)
