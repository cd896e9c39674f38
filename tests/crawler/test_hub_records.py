"""The one path from Hub-shaped records into the catalog: validation, snapshots, regions, lineage, licences."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Q

from ingest.curation import Curation
from ingest.hub_records import (
    MODEL_COLUMNS,
    InvalidBatch,
    InvalidRecord,
    prepare_batch,
    prepared_ahead,
    upsert_hub_records,
    write_batch,
)
from ingest.hub_records.orm import write_orm
from ingest.hub_records.postgres import write_postgres
from ingest.lineage import licence_conflicts
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Organization, QuarantinedRecord

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 5)


def record(hub_id, **fields):
    return {"id": hub_id, "author": hub_id.split("/")[0], "createdAt": "2025-01-02T03:04:05.000Z",
            "downloads": 10, "downloadsAllTime": 100, "likes": 1, "tags": [], "pipeline_tag": "text-generation",
            **fields}


def upsert(*records, day=DAY):
    return upsert_hub_records(list(records), snapshot_date=day, source="test")


def edges():
    return sorted(LineageEdge.objects.values_list("child__hub_id", "parent_hub_id", "relation", "source"))


@pytest.mark.parametrize("garbage, reason", [
    ({"id": "../../etc/passwd"}, "id"),
    ({"id": None}, "id"),
    (record("a/b", downloads=-5), "negative"),
    (record("a/b", downloads="many"), "downloads"),
    (record("a/b", createdAt="yesterday"), "createdAt"),
    (record("a/b", tags="text-generation"), "tags"),
    (record("a/b", cardData="{not json"), "cardData"),
    (record("a/b", cardData=[1, 2]), "cardData"),
    (record("a/b", safetensors=7), "safetensors"),
    ("a string where a record belongs", "record"),
    (record("a/b", pipeline_tag="text\x00generation"), "NUL"),
    (record("a/b", cardData={"license": "mit\u0000", "base_model": "x/y"}), "NUL"),
])
def test_it_quarantines_an_invalid_record_with_its_reason_and_keeps_the_rest(garbage, reason):
    counts = upsert(record("good/one"), garbage, record("good/two"))
    assert counts["quarantined"] == 1 and counts["models"] == 2
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == {"good/one", "good/two"}
    quarantined = QuarantinedRecord.objects.get()
    assert reason in quarantined.reason and quarantined.source == "test"


def test_it_keeps_one_snapshot_per_model_and_day_with_the_latest_values():
    upsert(record("org/m", downloads=5, downloadsAllTime=50, likes=1))
    upsert(record("org/m", downloads=7, downloadsAllTime=70, likes=2))
    upsert(record("org/m", downloads=9, downloadsAllTime=90, likes=3), day=DAY + dt.timedelta(days=1))
    assert list(DownloadSnapshot.objects.order_by("date").values_list("date", "downloads", "downloads_all_time",
                                                                      "likes")) == [
        (DAY, 7, 70, 2), (DAY + dt.timedelta(days=1), 9, 90, 3)]
    assert HubModel.objects.get().downloads_all_time == 90


def test_it_changes_nothing_when_the_same_records_arrive_twice():
    batch = [record("org/base"), record("org/child", baseModels={"relation": "finetune", "models": [{"id": "org/base"}]})]
    upsert(*batch)
    before = (list(HubModel.objects.order_by("hub_id").values("hub_id", "licence_class", "tracked", "downloads")),
              edges(), DownloadSnapshot.objects.count())
    upsert(*batch)
    after = (list(HubModel.objects.order_by("hub_id").values("hub_id", "licence_class", "tracked", "downloads")),
             edges(), DownloadSnapshot.objects.count())
    assert before == after


def test_it_creates_unknown_namespaces_as_unknown_and_never_touches_a_known_region():
    Organization.objects.create(namespace="Qwen", region="china", region_source="atom")
    upsert(record("Qwen/Qwen9"), record("newcomer/model"))
    assert Organization.objects.get(namespace="Qwen").region == "china"
    newcomer = Organization.objects.get(namespace="newcomer")
    assert (newcomer.region, newcomer.region_source) == ("unknown", "default")
    assert HubModel.objects.get(hub_id="Qwen/Qwen9").organization.namespace == "Qwen"


def test_it_takes_the_hubs_own_base_models_as_the_whole_parent_set():
    # The Hub resolved the card (old names to current ids, one base chosen): the card adds nothing.
    upsert(record("kid/model",
                  baseModels={"relation": "finetune", "models": [{"id": "meta-llama/Llama-3.1-8B"}]},
                  cardData={"base_model": ["meta-llama/Meta-Llama-3.1-8B", "other/base"], "base_model_relation": "merge"},
                  tags=["base_model:adapter:lora/base", "base_model:meta-llama/Llama-3.1-8B"]))
    assert edges() == [("kid/model", "meta-llama/Llama-3.1-8B", "finetune", "baseModels")]


def test_it_takes_the_hubs_base_model_tags_where_it_states_no_base_models():
    upsert(record("kid/model",
                  cardData={"base_model": ["meta-llama/Meta-Llama-3.1-8B", "other/base"], "base_model_relation": "merge"},
                  tags=["base_model:adapter:lora/base", "base_model:meta-llama/Llama-3.1-8B"]))
    assert edges() == [
        ("kid/model", "lora/base", "adapter", "tag"),
        ("kid/model", "meta-llama/Llama-3.1-8B", "merge", "tag"),
    ]


def test_it_reads_the_cards_own_base_models_where_the_hub_states_none():
    upsert(record("kid/model", cardData={"base_model": ["meta-llama/Llama-3.1-8B", "other/base"]}))
    assert edges() == [
        ("kid/model", "meta-llama/Llama-3.1-8B", "merge", "cardData"),
        ("kid/model", "other/base", "merge", "cardData"),
    ]


def test_it_reads_a_card_base_model_given_as_a_plain_string():
    upsert(record("kid/quant", cardData={"base_model": "org/base", "base_model_relation": "quantized"}))
    assert edges() == [("kid/quant", "org/base", "quantized", "cardData")]


def test_it_rejects_self_references_and_cycles_with_a_logged_reason(caplog):
    counts = upsert(record("a/self", cardData={"base_model": "a/self"}))
    assert counts["rejected_edges"] == 1 and edges() == []
    upsert(record("a/parent"), record("a/child", cardData={"base_model": "a/parent"}))
    upsert(record("a/grandchild", cardData={"base_model": "a/child"}))
    counts = upsert(record("a/parent", cardData={"base_model": "a/grandchild"}))
    assert counts["rejected_edges"] == 1
    assert ("a/parent", "a/grandchild", "finetune", "cardData") not in edges()
    assert "self-reference" in caplog.text and "would create a cycle" in caplog.text


def test_it_keeps_an_edge_to_an_unseen_parent_and_resolves_it_when_the_parent_arrives():
    upsert(record("kid/early", cardData={"base_model": "late/parent"}))
    edge = LineageEdge.objects.get()
    assert edge.parent is None and edge.parent_hub_id == "late/parent"
    upsert(record("late/parent"))
    edge.refresh_from_db()
    assert edge.parent.hub_id == "late/parent"
    assert HubModel.objects.get(hub_id="late/parent").child_edges.count() == 1


def test_it_drops_edges_that_a_newer_record_no_longer_states():
    upsert(record("kid/m", cardData={"base_model": ["x/one", "x/two"]}))
    upsert(record("kid/m", cardData={"base_model": "x/two"}))
    assert [e[1] for e in edges()] == ["x/two"]


def test_it_stores_licence_raw_id_and_class_from_the_card_or_the_tags():
    upsert(record("a/named", cardData={"license": "other", "license_name": "llama3.1"}),
           record("a/tagged", tags=["license:apache-2.0"]),
           record("a/listed", cardData={"license": ["MIT", "cc-by-nc-4.0"]}),
           record("a/none"))
    stored = {h: (raw, i, c) for h, raw, i, c in HubModel.objects.values_list("hub_id", "licence_raw", "licence_id",
                                                                              "licence_class")}
    assert stored == {
        "a/named": ("other (llama3.1)", "llama3.1", "restricted"),
        "a/tagged": ("apache-2.0", "apache-2.0", "permissive"),
        "a/listed": ("MIT,cc-by-nc-4.0", "cc-by-nc-4.0", "non-commercial"),
        "a/none": ("", "", "unknown"),
    }


def test_it_finds_derivatives_more_permissive_than_their_restrictive_parent():
    upsert(record("meta-llama/Base", cardData={"license": "llama3.1"}),
           record("research/Base", cardData={"license": "cc-by-nc-4.0"}))
    upsert(record("kid/relicensed", cardData={"license": "apache-2.0", "base_model": "meta-llama/Base"}),
           record("kid/faithful", cardData={"license": "llama3.1", "base_model": "meta-llama/Base"}),
           record("kid/unlabelled", cardData={"base_model": "meta-llama/Base"}),
           record("kid/nc-to-restricted", cardData={"license": "gemma", "base_model": "research/Base"}))
    conflicts = sorted((e.child.hub_id, e.parent.hub_id) for e in licence_conflicts())
    assert conflicts == [("kid/nc-to-restricted", "research/Base"), ("kid/relicensed", "meta-llama/Base")]


def test_it_keeps_what_an_admin_set_by_hand():
    upsert(record("org/curated-7B"))
    HubModel.objects.filter(hub_id="org/curated-7B").update(
        release_date=dt.date(2020, 1, 1), release_date_source="admin", total_params=1, params_source="admin")
    upsert(record("org/curated-7B", createdAt="2025-05-05T00:00:00Z"))
    model = HubModel.objects.get()
    assert (model.release_date, model.release_date_source) == (dt.date(2020, 1, 1), "admin")
    assert (model.total_params, model.params_source) == (1, "admin")


def test_a_batch_of_new_and_stored_models_links_every_edge_to_the_parents_it_knows():
    upsert(record("p/base"))
    upsert(record("p/base", cardData={"base_model": "q/later"}), record("n/kid", cardData={"base_model": "p/base"}),
           record("n/grandkid", cardData={"base_model": "n/kid"}))
    parents = dict(LineageEdge.objects.values_list("child__hub_id", "parent__hub_id"))
    assert parents == {"p/base": None, "n/kid": "p/base", "n/grandkid": "n/kid"}
    upsert(record("q/later"))
    assert LineageEdge.objects.get(child__hub_id="p/base").parent.hub_id == "q/later"
    assert DownloadSnapshot.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_model_another_writer_stores_while_the_batch_is_being_written_is_updated_not_duplicated():
    import threading

    from django.db import connection, transaction

    stored, release = threading.Event(), threading.Event()

    def other_writer():
        try:
            with transaction.atomic():
                HubModel.objects.create(hub_id="race/model", author="race", downloads=1)
                stored.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert stored.wait(10)
    # The batch looks the model up before the writer commits, so it tries to COPY it as new and
    # waits on the unique index; the writer then commits and the batch must fall back to the upsert.
    threading.Timer(0.5, release.set).start()
    with transaction.atomic():
        counts = upsert(record("race/model", downloads=7), record("race/other"))
    writer.join(10)
    assert counts["models"] == 2
    assert HubModel.objects.get(hub_id="race/model").downloads == 7
    assert sorted(DownloadSnapshot.objects.values_list("model__hub_id", "downloads")) == [
        ("race/model", 7), ("race/other", 10)]


def test_prepared_ahead_hands_out_every_batch_in_order_and_names_the_batch_of_an_invalid_record():
    from ingest.curation import load_curation
    from ingest.hub_records import InvalidBatch, prepared_ahead

    rows = [record(f"ahead/m{i}") for i in range(12)]
    handed = [(start, list(batch.prepared)) for start, batch in
              prepared_ahead(rows, 5, source="test", quarantine_invalid=False, curation=load_curation())]
    assert handed == [(0, [f"ahead/m{i}" for i in range(5)]), (5, [f"ahead/m{i}" for i in range(5, 10)]),
                      (10, ["ahead/m10", "ahead/m11"])]

    rows[11] = record("ahead/m11", downloads="many")
    seen = []
    with pytest.raises(InvalidBatch) as failure:
        for start, _ in prepared_ahead(rows, 5, source="test", quarantine_invalid=False, curation=load_curation()):
            seen.append(start)
    assert seen == [0, 5]  # the batches before the bad one, as a plain loop would have written them
    assert failure.value.start == 10 and failure.value.records == rows[10:]
    assert "downloads" in str(failure.value)


def test_a_hub_stats_import_names_the_row_of_a_bad_record_in_a_later_batch(tmp_path, monkeypatch):
    import polars as pl

    from ingest.importers import hubstats
    from ingest.importing import ImportFileError

    monkeypatch.setattr(hubstats, "BATCH", 4)  # several batches from a small file
    rows = [record(f"later/m{i}", cardData="{}") for i in range(10)]
    rows[8]["createdAt"] = "yesterday"
    path = tmp_path / "hub_stats_2026-06-05.parquet"
    pl.DataFrame(rows).write_parquet(path)
    with pytest.raises(ImportFileError) as failure:
        hubstats.import_hubstats(path)
    assert "row 9" in str(failure.value) and "createdAt" in str(failure.value)
    assert not HubModel.objects.filter(hub_id__startswith="later/").exists()  # nothing of the file stays


# No curated tables: what curation decides is then plain to write down by hand.
NO_CURATION = Curation(params={}, corrections={}, listed={}, policy=None, known_orgs=set())


def _stored_before_the_batch():
    """A known organisation, a model an admin curated with a stale edge, a plain stored model, and a
    stored child whose two edges wait for a parent: one the batch brings new, one already stored."""
    known = Organization.objects.create(namespace="parity-known", region="china", region_source="atom")
    curated = HubModel.objects.create(hub_id="parity-known/stored", organization=known, author="known", downloads=1,
                                      release_date=dt.date(2020, 1, 1), release_date_source="admin",
                                      total_params=1, params_source="admin", size_class="<1B")
    HubModel.objects.create(hub_id="parity-known/base", organization=known, author="known")
    waiting = HubModel.objects.create(hub_id="parity-known/outside", organization=known, author="known")
    DownloadSnapshot.objects.create(model=curated, date=DAY, downloads=1, downloads_all_time=10, likes=0, source="old")
    LineageEdge.objects.create(child=curated, parent_hub_id="parity-gone/parent", relation="merge", source="cardData")
    LineageEdge.objects.create(child=waiting, parent_hub_id="parity-new/base", relation="finetune", source="cardData")
    LineageEdge.objects.create(child=waiting, parent_hub_id="parity-known/stored", relation="merge", source="cardData")


def _parity_rows():
    models = HubModel.objects.filter(hub_id__startswith="parity").order_by("hub_id")
    return {
        "models": list(models.values_list("hub_id", "organization__namespace", *MODEL_COLUMNS)),
        "not_seen": list(models.filter(Q(first_seen_at__isnull=True) | Q(last_seen_at__isnull=True))
                         .values_list("hub_id", flat=True)),
        "snapshots": sorted(DownloadSnapshot.objects.filter(model__hub_id__startswith="parity").values_list(
            "model__hub_id", "date", "downloads", "downloads_all_time", "likes", "source")),
        "edges": sorted(LineageEdge.objects.filter(child__hub_id__startswith="parity").values_list(
            "child__hub_id", "parent_hub_id", "parent__hub_id", "relation", "source")),
        "organizations": sorted(Organization.objects.filter(namespace__startswith="parity").values_list(
            "namespace", "display_name", "region", "region_source")),
    }


def test_both_writers_store_the_same_rows_for_the_same_batch():
    # New models (PostgreSQL: the COPY path) and a stored one (the upsert path) in one batch.
    batch = prepare_batch([
        record("parity-known/stored", createdAt="2025-05-05T00:00:00Z", downloads=7, downloadsAllTime=70, likes=3,
               cardData={"base_model": "parity-known/base"}),
        record("parity-new/base"),
        record("parity-new/kid-7B", cardData={"base_model": "parity-new/base"}),
        record("parity-new/orphan", cardData={"base_model": "parity-unseen/parent"}),
        record("parity-legacy"),
    ], source="test", curation=NO_CURATION)
    stored = {}
    for writer in (write_postgres, write_orm):
        with transaction.atomic():
            _stored_before_the_batch()
            counts = write_batch(batch, snapshot_date=DAY, source="test", writer=writer)
            stored[writer.__name__] = (counts, _parity_rows())
            transaction.set_rollback(True)
    assert stored["write_postgres"] == stored["write_orm"]  # every column, not only those written out below

    counts, rows = stored["write_orm"]
    assert (counts["models"], counts["snapshots"], counts["edges"], counts["rejected_edges"]) == (5, 5, 3, 0)
    # (hub_id, organisation, release date and source, total params, params source, size class, downloads, all time,
    # likes): an admin's date and size outlive the record, the rest is the record's.
    picked = ["hub_id", "organization__namespace", "release_date", "release_date_source", "total_params",
              "params_source", "size_class", "downloads", "downloads_all_time", "likes"]
    columns = ["hub_id", "organization__namespace", *MODEL_COLUMNS]
    models = {row[0]: tuple(row[columns.index(c)] for c in picked) for row in rows["models"]}
    jan2 = dt.date(2025, 1, 2)
    assert {hub_id: models[hub_id] for hub_id in models if hub_id != "parity-known/base"
            and hub_id != "parity-known/outside"} == {
        "parity-known/stored": ("parity-known/stored", "parity-known", dt.date(2020, 1, 1), "admin", 1, "admin", "<1B",
                                7, 70, 3),
        "parity-new/base": ("parity-new/base", "parity-new", jan2, "hub", None, "", "", 10, 100, 1),
        "parity-new/kid-7B": ("parity-new/kid-7B", "parity-new", jan2, "hub", 7_000_000_000, "name", "7-9B", 10, 100, 1),
        "parity-new/orphan": ("parity-new/orphan", "parity-new", jan2, "hub", None, "", "", 10, 100, 1),
        "parity-legacy": ("parity-legacy", None, jan2, "hub", None, "", "", 10, 100, 1),
    }
    # Every model of the batch carries when it was first and last seen; the two created above have no last.
    assert rows["not_seen"] == ["parity-known/base", "parity-known/outside"]
    assert rows["snapshots"] == [
        ("parity-known/stored", DAY, 7, 70, 3, "test"),
        ("parity-legacy", DAY, 10, 100, 1, "test"),
        ("parity-new/base", DAY, 10, 100, 1, "test"),
        ("parity-new/kid-7B", DAY, 10, 100, 1, "test"),
        ("parity-new/orphan", DAY, 10, 100, 1, "test"),
    ]
    assert rows["edges"] == [
        ("parity-known/outside", "parity-known/stored", "parity-known/stored", "merge", "cardData"),
        ("parity-known/outside", "parity-new/base", "parity-new/base", "finetune", "cardData"),
        ("parity-known/stored", "parity-known/base", "parity-known/base", "finetune", "cardData"),
        ("parity-new/kid-7B", "parity-new/base", "parity-new/base", "finetune", "cardData"),
        ("parity-new/orphan", "parity-unseen/parent", None, "finetune", "cardData"),
    ]
    assert rows["organizations"] == [("parity-known", "", "china", "atom"),  # a known one is not touched
                                     ("parity-new", "parity-new", "unknown", "default")]


def test_a_record_of_the_wrong_type_names_its_field_and_batch_index_and_keeps_what_was_valid():
    rows = [record(f"garbage/m{i}") for i in range(10)]
    rows[6] = record("garbage/m6", likes="lots")  # the second batch of four, index 2 in it

    with pytest.raises(InvalidRecord) as failure:
        prepare_batch(rows[4:8], source="test", quarantine_invalid=False, curation=NO_CURATION)
    assert (failure.value.field, failure.value.index) == ("likes", 2)
    assert str(failure.value) == "likes: expected a count, got 'lots'"

    written = []
    with pytest.raises(InvalidBatch) as failure:
        for start, batch in prepared_ahead(rows, 4, source="test", quarantine_invalid=False, curation=NO_CURATION):
            write_batch(batch, snapshot_date=DAY, source="test")
            written.append(start)
    assert (failure.value.field, failure.value.index, failure.value.start, failure.value.row) == ("likes", 2, 4, 6)
    assert written == [0]  # the batch before the bad one was written and stays
    assert sorted(HubModel.objects.filter(hub_id__startswith="garbage/").values_list("hub_id", flat=True)) == [
        "garbage/m0", "garbage/m1", "garbage/m2", "garbage/m3"]

    # Quarantined instead: the bad record is kept aside with its reason, every valid one of its batch is stored.
    counts = upsert(*rows[4:8])
    assert (counts["quarantined"], counts["models"]) == (1, 3)
    assert QuarantinedRecord.objects.get().reason == "likes: expected a count, got 'lots'"
    assert sorted(HubModel.objects.filter(hub_id__startswith="garbage/").values_list("hub_id", flat=True)) == [
        f"garbage/m{i}" for i in (0, 1, 2, 3, 4, 5, 7)]

    # A record that is not an object at all has no field to name, only its index.
    with pytest.raises(InvalidRecord) as failure:
        prepare_batch([record("garbage/ok"), "not a record"], source="test", quarantine_invalid=False,
                      curation=NO_CURATION)
    assert (failure.value.field, failure.value.index) == (None, 1)
