"""Curation on ATOM's real tables: sizes, parameter counts, release dates, the tracking policy."""

import csv
import datetime as dt

import polars as pl
import pytest

from ingest.curation import (
    CuratedParams,
    Policy,
    load_curation,
    params_from_name,
    reapply_curation,
    release_date_for,
    resolve_params,
    size_class,
)


def _csv_rows(path, *, skip_comments=False):
    with open(path, newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not (skip_comments and line.startswith("#"))]
    return list(csv.DictReader(lines))


@pytest.fixture(scope="module")
def parameter_rows(shared_data):
    return _csv_rows(shared_data / "atom" / "metadata" / "model_parameters.csv")


@pytest.fixture(scope="module")
def correction_rows(shared_data):
    return _csv_rows(shared_data / "atom" / "metadata" / "release_date_corrections.csv", skip_comments=True)


@pytest.fixture(scope="module")
def policy(shared_data):
    return Policy.from_yaml((shared_data / "atom" / "policy" / "model_policy.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("billions", "expected"), [
    (None, ""), (0, ""), (0.135, "<1B"), (0.999, "<1B"), (1.0, "1-5B"), (4.99, "1-5B"), (5.0, "7-9B"),
    (8.03, "7-9B"), (9.99, "7-9B"), (10.0, "10-50B"), (49.9, "10-50B"), (50.0, "50-100B"), (99.9, "50-100B"),
    (100.0, "100-250B"), (249.9, "100-250B"), (250.0, "250B+"), (671.0, "250B+"),
])
def test_it_puts_sizes_in_atoms_classes(billions, expected):
    assert size_class(billions) == expected


@pytest.mark.parametrize(("hub_id", "expected"), [
    ("meta-llama/Llama-3.1-8B-Instruct", 8.0),
    ("Qwen/Qwen2.5-0.5B-Instruct", 0.5),
    ("someone/model_0.5B", 0.5),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5b", 1.5),
    ("mistralai/Mixtral-8x7B-v0.1", 56.0),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", 0.135),
    ("Qwen/Qwen3-30B-A3B", 30.0),
    ("Qwen/Qwen3-235B-A22B-Instruct-2507", 235.0),
    ("internlm/internlm2_5-1_8b-chat", 1.8),
    ("allenai/OLMoE-1B-7B-0924-Instruct", 7.0),
    ("BAAI/Infinity-Instruct-7M-Gen-Llama3_1-8B", 8.0),
    ("Qwen/Qwen1.5-MoE-A2.7B", None),  # only an active size: no total in the name
    ("lmsys/vicuna-7b-v1.5", 7.0),
    ("someone/model-v1.5", None),
    ("mistralai/Mistral-Large-Instruct-2407", None),
    ("someone/run-2024-07-18", None),
    ("bigscience/bloom-7b1", None),
])
def test_it_reads_sizes_from_names(hub_id, expected):
    assert params_from_name(hub_id) == expected


def test_it_agrees_with_safetensors_on_most_real_hub_names(shared_data):
    """Names are a fallback; on real hub-stats rows they must land in the safetensors size class."""
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    pairs = [(params_from_name(r["id"]), (r["safetensors"] or {}).get("total"))
             for r in frame.select("id", "safetensors").to_dicts()]
    pairs = [(name, total) for name, total in pairs if name is not None and total]
    agree = sum(size_class(name) == size_class(total / 1e9) for name, total in pairs)
    assert len(pairs) > 2500
    assert agree / len(pairs) > 0.95


def test_it_takes_every_curated_row_first(parameter_rows):
    curated = {
        row["model_id"]: CuratedParams(float(row["total_params_b"]),
                                       float(row["active_params_b"]) if row["active_params_b"] else None,
                                       {"true": True, "false": False}.get(row["is_moe"]))
        for row in parameter_rows
    }
    assert len(curated) == len(parameter_rows) == 299
    for row in parameter_rows:
        total, active, is_moe, source = resolve_params(row["model_id"], 123_456, curated)
        assert source == "curated"
        assert total == round(float(row["total_params_b"]) * 1e9)
        assert active == (round(float(row["active_params_b"]) * 1e9) if row["active_params_b"] else None)
        assert is_moe == {"true": True, "false": False}.get(row["is_moe"])
    total, active, _, _ = resolve_params("deepseek-ai/DeepSeek-R1", None, curated)
    assert (total, active, size_class(total / 1e9)) == (671_000_000_000, 37_000_000_000, "250B+")


def test_it_falls_back_to_safetensors_then_the_name_then_unknown():
    assert resolve_params("acme/thing-8B", 7_615_616_512, {}) == (7_615_616_512, None, None, "safetensors")
    assert resolve_params("acme/thing-8B", None, {}) == (8_000_000_000, None, None, "name")
    assert resolve_params("acme/thing", None, {}) == (None, None, None, "")


def test_it_applies_every_release_date_correction(correction_rows):
    corrections = {row["model_id"]: dt.date.fromisoformat(row["actual_release_date"]) for row in correction_rows}
    assert len(corrections) == len(correction_rows) > 30
    for row in correction_rows:
        created = (dt.datetime.fromisoformat(row["hf_created_at"]).replace(tzinfo=dt.UTC)
                   if row["hf_created_at"] else None)
        assert release_date_for(row["model_id"], created, corrections) == (
            dt.date.fromisoformat(row["actual_release_date"]), "correction")
    created = dt.datetime(2024, 9, 18, 12, tzinfo=dt.UTC)
    assert release_date_for("Qwen/Qwen2.5-7B", created, corrections) == (dt.date(2024, 9, 18), "hub")
    assert release_date_for("Qwen/Qwen2.5-7B", None, corrections) == (None, "")


def test_it_tracks_every_id_on_atoms_lists(policy, shared_data):
    for name in ("models", "extra_models"):
        for row in _csv_rows(shared_data / "atom" / f"{name}.csv"):
            # GGUF repos and 0 downloads would be rejected, but a list entry wins.
            record = {"id": row["modelId"], "pipeline_tag": "feature-extraction", "tags": ["gguf"]}
            assert policy.decide(record, listed=name, downloads_all_time=0) == (True, f"atom-list:{name}")
    assert policy.decide({"id": "a/b"}, listed=True, downloads_all_time=None) == (True, "atom-list")


@pytest.mark.parametrize(("record", "downloads", "reason"), [
    ({"id": "bartowski/Llama-3.2-1B-Instruct-GGUF", "pipeline_tag": "text-generation"}, 10**7,
     "rejected: name pattern (?i)(gguf|mlx|onnx|openvino|gptq|awq|bnb|bitsandbytes|prequantized)"),
    ({"id": "meta-llama/Llama-Guard-3-8B", "pipeline_tag": "text-generation"}, 10**7,
     "rejected: name pattern (?i)(guard|guardian|shield|safeguard|safety)"),
    ({"id": "BAAI/bge-m3", "pipeline_tag": "sentence-similarity"}, 10**7,
     "rejected: pipeline tag sentence-similarity"),
    ({"id": "acme/Chat-7B", "pipeline_tag": "text-generation", "tags": ["gguf"]}, 10**7,
     "rejected: format pattern (?i)(gguf|mlx|onnx|openvino)"),
    ({"id": "nvidia/Parakeet-TDT-1.1B", "pipeline_tag": "text-generation"}, 10**7,
     "rejected: nvidia name pattern (?i)(ASR|Parakeet|Canary|Audio|Speech)"),
    ({"id": "Qwen/Qwen3-8B", "pipeline_tag": "text-generation"}, 99_999,
     "not tracked: fewer than 100,000 all-time downloads"),
    ({"id": "Qwen/Qwen3-8B", "pipeline_tag": "text-to-image"}, 10**7,
     "not tracked: pipeline tag text-to-image not allowed"),
    ({"id": "google/gemma-3-4b-it", "pipeline_tag": "image-text-to-text"}, 10**7,
     "not tracked: outside google's primary families"),
    ({"id": "Qwen/Qwen3-8B", "pipeline_tag": "text-generation"}, 100_000, "policy: meets ATOM's policy"),
    ({"id": "google/gemma-4-31b-it", "pipeline_tag": "any-to-any"}, 100_000, "policy: meets ATOM's policy"),
])
def test_it_decides_unlisted_models_by_the_real_policy(policy, record, downloads, reason):
    tracked, why = policy.decide(record, listed=False, downloads_all_time=downloads)
    assert why == reason
    assert tracked == why.startswith("policy:")


def test_it_rejects_every_real_gguf_repo_that_no_list_names(policy, shared_data):
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    gguf = [r for r in frame.select("id", "pipeline_tag", "tags", "library_name").to_dicts()
            if "gguf" in r["id"].lower()]
    assert gguf
    for record in gguf:
        tracked, reason = policy.decide(record, listed=None, downloads_all_time=10**9)
        assert not tracked and reason.startswith("rejected:"), (record["id"], reason)


@pytest.mark.parametrize(("document", "fragment"), [
    (["a", "list"], "must be a mapping"),
    ({"global": "text"}, "global: must be a mapping"),
    ({"global": {"reject_name_patterns": "gguf"}}, "global.reject_name_patterns: must be a list"),
    ({"global": {"reject_pipeline_tags": 3}}, "global.reject_pipeline_tags: must be a list"),
    ({"global": {"reject_name_patterns": ["(unclosed"]}}, "bad pattern"),
    ({"global": {"primary_min_downloads": "many"}}, "primary_min_downloads: must be an integer"),
    ({"orgs": ["Qwen"]}, "orgs: must be a mapping"),
    ({"orgs": {"Qwen": ["x"]}}, "orgs.Qwen: must be a mapping"),
])
def test_it_refuses_a_policy_of_the_wrong_shape(document, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        Policy.from_document(document)


@pytest.mark.django_db
def test_it_reapplies_curation_in_bulk_and_keeps_what_an_admin_set(django_assert_max_num_queries, shared_data):
    """Runs beside the bootstrapped data set (other tests share it), so it uses its own namespace."""
    import yaml

    from observatory.catalog.models import (
        HubModel,
        Organization,
        ParameterCount,
        ReleaseDateCorrection,
        TrackedListEntry,
        TrackingPolicy,
    )

    document = yaml.safe_load((shared_data / "atom" / "policy" / "model_policy.yml").read_text(encoding="utf-8"))
    TrackingPolicy.objects.update_or_create(name="atom", defaults={"document": document})
    org = Organization.objects.create(namespace="acme-lab", region="eu", region_source="atom")
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    ids = [f"acme-lab/Model-{i}-7B" for i in range(60)] + ["acme-lab/Big-Curated", "acme-lab/Admin-Sized"]
    HubModel.objects.bulk_create([
        HubModel(hub_id=hub_id, organization=org, created_at=created, pipeline_tag="text-generation",
                 downloads_all_time=10**6) for hub_id in ids[:60]
    ] + [
        HubModel(hub_id="acme-lab/Big-Curated", organization=org, created_at=created, pipeline_tag="text-generation"),
        HubModel(hub_id="acme-lab/Admin-Sized", organization=org, created_at=created, total_params=3_000_000_000,
                 params_source="admin", size_class="1-5B", release_date=dt.date(2020, 1, 1),
                 release_date_source="admin"),
    ])
    ParameterCount.objects.create(hub_id="acme-lab/Big-Curated", total_params_b=671, active_params_b=37)
    ParameterCount.objects.create(hub_id="acme-lab/Admin-Sized", total_params_b=999)
    ReleaseDateCorrection.objects.create(hub_id="acme-lab/Big-Curated", actual_release_date=dt.date(2025, 1, 20))
    ReleaseDateCorrection.objects.create(hub_id="acme-lab/Admin-Sized", actual_release_date=dt.date(2025, 1, 20))
    TrackedListEntry.objects.create(hub_id="acme-lab/Big-Curated", list_name="models", org="acme-lab")

    with django_assert_max_num_queries(12):  # bulk: a handful of queries, not one per row
        changed = reapply_curation(ids)
    assert changed == 62
    big = HubModel.objects.get(hub_id="acme-lab/Big-Curated")
    assert (big.total_params, big.active_params, big.params_source, big.size_class) == (
        671_000_000_000, 37_000_000_000, "curated", "250B+")
    assert (big.release_date, big.release_date_source) == (dt.date(2025, 1, 20), "correction")
    assert (big.tracked, big.tracked_reason) == (True, "atom-list:models")
    admin = HubModel.objects.get(hub_id="acme-lab/Admin-Sized")
    assert (admin.total_params, admin.params_source, admin.size_class) == (3_000_000_000, "admin", "1-5B")
    assert (admin.release_date, admin.release_date_source) == (dt.date(2020, 1, 1), "admin")
    assert (admin.tracked, admin.tracked_reason) == (False, "not tracked: pipeline tag missing not allowed")
    named = HubModel.objects.get(hub_id="acme-lab/Model-3-7B")
    assert (named.total_params, named.params_source, named.size_class) == (7_000_000_000, "name", "7-9B")
    assert (named.release_date, named.tracked, named.tracked_reason) == (
        dt.date(2025, 1, 1), True, "policy: meets ATOM's policy")
    assert reapply_curation(ids) == 0  # nothing left to change
    assert load_curation().listed["acme-lab/Big-Curated"] == "models"
