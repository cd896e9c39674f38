"""The column path (ingest/hub_records/columnar.py) prepares a batch exactly as `prepare` prepares
each of its records, and leaves every record it cannot vouch for to `prepare`, which raises the
same error (field, index) as before the column path existed."""

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest

from ingest.curation import CuratedParams, Curation, Policy
from ingest.hub.replay import load_records
from ingest.hub_records import InvalidRecord, prepare_batch
from ingest.hub_records.columnar import prepare_columns
from ingest.hub_records.prepare import prepare


@pytest.fixture(scope="module")
def hubstats_rows(shared_data) -> list[dict]:
    return pl.read_parquet(next((Path(shared_data) / "hub").glob("hub_stats_frozen_*.parquet"))).to_dicts()


@pytest.fixture(scope="module")
def curation(shared_data, hubstats_rows) -> Curation:
    """ATOM's real policy; lists, parameters, corrections and known organisations drawn from the real
    rows so that every branch of the decision is taken by some of them."""
    policy = Policy.from_yaml((Path(shared_data) / "atom" / "policy" / "model_policy.yml").read_text())
    ids = [row["id"] for row in hubstats_rows]
    namespaces = sorted({hub_id.split("/")[0] for hub_id in ids})
    return Curation(
        params={hub_id: CuratedParams(7.0, 1.5 if i % 2 else None, bool(i % 2)) for i, hub_id in enumerate(ids[::97])},
        corrections={hub_id: dt.date(2022, 1, 1 + i % 28) for i, hub_id in enumerate(ids[5::89])},
        listed={**{hub_id: "models" for hub_id in ids[3::61]}, ids[1]: True, ids[2]: "extra_models"},
        policy=policy,
        known_orgs=set(namespaces[::2]) | set(policy.org_rules),
    )


def record(hub_id="good/model", **fields):
    return {"id": hub_id, "author": hub_id.split("/")[0], "createdAt": "2025-01-02T03:04:05.000Z",
            "downloads": 10, "downloadsAllTime": 100, "likes": 1, "tags": [], "pipeline_tag": "text-generation",
            **fields}


def one_by_one(records, curation):
    return [prepare(r, curation) for r in records]


@pytest.mark.parametrize("shape", ["hub-stats rows", "list-endpoint wire records"])
def test_every_real_record_is_prepared_by_columns_exactly_as_one_by_one(shape, hubstats_rows, shared_data, curation):
    records = hubstats_rows if shape == "hub-stats rows" else load_records(shared_data)
    by_columns = prepare_columns(records, curation)
    assert sorted(by_columns) == list(range(len(records)))  # the real data is all of the common shape
    assert [by_columns[i] for i in range(len(records))] == one_by_one(records, curation)


def test_the_real_records_take_every_kind_of_tracking_decision(hubstats_rows, curation):
    reasons = {p.fields["tracked_reason"].split(":")[0] for p in prepare_columns(hubstats_rows, curation).values()}
    assert {"atom-list", "rejected", "not tracked", "policy"} <= reasons
    kinds = {p.fields["tracked_reason"] for p in prepare_columns(hubstats_rows, curation).values()}
    for fragment in ("pipeline tag", "name pattern", "format pattern", "organisation not in the region table",
                     "primary families", "released before ChatGPT", "all-time downloads", "atom-list:models"):
        assert any(fragment in reason for reason in kinds), fragment


def test_without_a_policy_only_the_lists_track(hubstats_rows, curation):
    bare = Curation(curation.params, curation.corrections, curation.listed, None, curation.known_orgs)
    rows = hubstats_rows[:400]
    assert [p for _, p in sorted(prepare_columns(rows, bare).items())] == one_by_one(rows, bare)


# (what is wrong, the record, the field InvalidRecord names, its message): every rule the column
# mask applies, each broken once.
GARBAGE = [
    ("not an object", "a string where a record belongs", None, "record is a str, not an object"),
    ("no id", {"downloads": 3}, "id", "id: not a Hub repo id: 'None'"),
    ("id not a string", record() | {"id": 42}, "id", "id: not a Hub repo id: '42'"),
    ("path in the id", record("../../etc/passwd"), "id", "id: not a Hub repo id: '../../etc/passwd'"),
    ("double dot", record("a/b..c"), "id", "id: not a Hub repo id: 'a/b..c'"),
    ("tags a string", record(tags="text-generation"), "tags", "tags: expected a list of strings"),
    ("a tag not a string", record(tags=["ok", 3]), "tags", "tags: expected a list of strings"),
    ("card not JSON", record(cardData="{not json"), "cardData", "cardData: not valid JSON"),
    ("card a list", record(cardData=[1, 2]), "cardData", "cardData: expected an object, got list"),
    ("card JSON of a list", record(cardData="[1, 2]"), "cardData", "cardData: expected an object, got list"),
    ("card a number", record(cardData=7), "cardData", "cardData: expected an object, got int"),
    ("bad date", record(createdAt="yesterday"), "createdAt", "createdAt: not an ISO date-time: 'yesterday'"),
    ("date a number", record(lastModified=1700000000), "lastModified",
     "lastModified: expected a date-time, got int"),
    ("safetensors a number", record(safetensors=7), "safetensors", "safetensors: expected an object"),
    ("negative total", record(safetensors={"total": -1}), "safetensors.total", "safetensors.total: negative count -1"),
    ("negative downloads", record(downloads=-5), "downloads", "downloads: negative count -5"),
    ("downloads a word", record(downloads="many"), "downloads", "downloads: expected a count, got 'many'"),
    ("downloads NaN", record(downloads=math.nan), "downloads", "downloads: expected a count, got nan"),
    ("likes a bool", record(likes=True), "likes", "likes: expected a count, got True"),
    ("negative all-time", record(downloadsAllTime=-1), "downloadsAllTime", "downloadsAllTime: negative count -1"),
    ("sha not hex", record(sha="xyz"), "sha", "sha: not a commit id (40 hex digits): 'xyz'"),
    ("sha a number", record(sha=0), "sha", "sha: not a commit id (40 hex digits): '0'"),
    ("NUL in a text", record(pipeline_tag="text\x00generation"), "pipeline_tag", "pipeline_tag: contains a NUL character"),
    ("NUL in the card", record(cardData={"license": "mit\u0000"}), "licence_raw",
     "licence_raw: contains a NUL character"),
    ("NUL in a tag", record(tags=["a\x00b"]), "tags", "tags: contains a NUL character"),
]


@pytest.mark.parametrize("what, garbage, field, message", GARBAGE, ids=[g[0] for g in GARBAGE])
def test_a_bad_record_is_left_to_prepare_and_raises_what_it_always_raised(what, garbage, field, message, curation):
    batch = [record("good/one"), record("good/two"), garbage, record("good/three")]
    assert 2 not in prepare_columns(batch, curation)
    with pytest.raises(InvalidRecord) as one:
        prepare(garbage, curation)
    with pytest.raises(InvalidRecord) as raised:
        prepare_batch(batch, source="test", quarantine_invalid=False, curation=curation)
    assert (raised.value.field, raised.value.index, str(raised.value)) == (field, 2, message)
    assert (one.value.field, str(one.value)) == (field, message)


@pytest.mark.parametrize("what, garbage, field, message", GARBAGE, ids=[g[0] for g in GARBAGE])
def test_a_bad_record_is_quarantined_with_its_reason_and_the_rest_prepared(what, garbage, field, message, curation):
    batch = [record("good/one"), garbage, record("good/two")]
    prepared = prepare_batch(batch, source="test", curation=curation)
    assert list(prepared.prepared) == ["good/one", "good/two"]
    assert [q.reason for q in prepared.quarantined] == [message]


# Valid, but of a shape the column path leaves to prepare: the batch comes out as one by one.
UNUSUAL = [
    ("float count", record(downloads=12.0)),
    ("date-time without Z", record(createdAt="2025-01-02 03:04:05")),
    ("date-time with an offset", record(createdAt="2025-01-02T03:04:05+02:00")),
    ("card with NaN", record(cardData='{"license": "mit", "x": NaN}')),
    ("sha with a trailing newline", record(sha="0123456789abcdef0123456789abcdef01234567\n")),
    ("pipeline tag a number", record(pipeline_tag=7)),
    ("library a list", record(library_name=["transformers"])),
    ("legacy id", record("gpt2")),
    ("an id in modelId only", {k: v for k, v in record("m/only").items() if k != "id"} | {"modelId": "m/only"}),
    ("listed as True", record("listed/true")),
]


@pytest.mark.parametrize("what, unusual", UNUSUAL, ids=[u[0] for u in UNUSUAL])
def test_an_unusual_but_valid_record_comes_out_as_prepare_makes_it(what, unusual, curation):
    curation = Curation(curation.params, curation.corrections, {**curation.listed, "listed/true": True},
                        curation.policy, curation.known_orgs)
    batch = [record("good/one"), unusual, record("good/two")]
    prepared = prepare_batch(batch, source="test", quarantine_invalid=False, curation=curation)
    assert list(prepared.prepared.values()) == one_by_one(batch, curation)


def test_the_same_id_twice_in_a_batch_keeps_the_later_record(curation):
    batch = [record("twice/m", downloads=1), record("other/m"), record("twice/m", downloads=2)]
    prepared = prepare_batch(batch, source="test", curation=curation).prepared
    assert list(prepared) == ["twice/m", "other/m"] and prepared["twice/m"].fields["downloads"] == 2
