"""The release watch's policy set in the admin: the add form starts from the settings in force,
garbage is refused beside its field with a clear reason and saves nothing, and once saved the
watch plans with the admin's probes, daily cap, size cap, priority, configs and public sets."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.utils import timezone

from gpu_workers import watch
from gpu_workers.models import ProbeRun, WatchPolicy
from observatory.catalog.models import HubModel

pytestmark = [pytest.mark.django_db]
ADD = "/admin/gpu_workers/watchpolicy/add/"
GOOD = {"probes": '["tooling", "benchmark"]', "max_per_day": "2", "max_params_b": "1.5", "max_age_days": "60",
        "priority": "size_class", "probe_config": '{"tooling": {"generation_tokens": 4}, "benchmark": {"limit": 3}}',
        "public_sets": '{"gsm8k": 7}'}
SHA = "ab" * 20  # as the crawl stores it: the watch then asks the Hub nothing


def _model(hub_id, *, params, size_class, downloads=0, days_old=3):
    return HubModel.objects.create(hub_id=hub_id, tracked=True, tracked_reason="atom-list:models", sha=SHA,
                                   created_at=timezone.now() - dt.timedelta(days=days_old), total_params=int(params),
                                   size_class=size_class, downloads_all_time=downloads)


@pytest.fixture
def settings_policy(settings):
    settings.WATCH_PROBES = ["benchmark", "tooling", "finetune"]
    settings.WATCH_MAX_PER_DAY, settings.WATCH_MAX_PARAMS_B, settings.WATCH_MAX_AGE_DAYS = 9, 8.0, 30
    settings.WATCH_PRIORITY, settings.WATCH_PROBE_CONFIG = "downloads", {}
    settings.WATCH_PUBLIC_SETS, settings.WATCH_GPU_HOSTS = {"hellaswag": "100"}, False
    return settings


def test_the_add_form_starts_from_the_settings_in_force(admin_client, settings_policy):
    page = html.unescape(admin_client.get(ADD).content.decode())
    assert '["benchmark", "tooling", "finetune"]' in page
    assert 'name="max_per_day" value="9"' in page and 'name="max_age_days" value="30"' in page
    assert '{"hellaswag": 100}' in page


@pytest.mark.parametrize("field, value, reason", [
    ("probes", '["benchmark", "nonsense"]', "unknown probe(s) nonsense; known: benchmark, finetune, tooling"),
    ("probes", '["tooling", "tooling"]', "a probe is listed twice"),
    ("probes", '"tooling"', "a list of probe names"),
    ("probes", "{not json", "Enter a valid JSON."),
    ("max_per_day", "-1", "Ensure this value is greater than or equal to 0."),
    ("max_per_day", "ten", "Enter a whole number."),
    ("max_params_b", "0", "must be more than 0 (billions of parameters), got 0.0"),
    ("max_params_b", "-3", "must be more than 0"),
    ("priority", "alphabetical", "Select a valid choice. alphabetical is not one of the available choices."),
    ("probe_config", '{"benchmark": {"limit": "lots"}}', 'benchmark.limit must be a positive integer or null'),
    ("probe_config", '{"finetune": {"steps": 2.5}}', "finetune.steps must be an integer like its default 10"),
    ("probe_config", '{"finetune": {"trust_remote_code": true}}', "unknown finetune config key 'trust_remote_code'"),
    ("probe_config", '{"benchmark": {"item_set": "../../etc/passwd"}}', "benchmark.item_set must be one of"),
    ("probe_config", '{"sampler": {}}', "config for unknown probe 'sampler'"),
    ("probe_config", '["benchmark"]', "an object {probe: {option: value}}"),
    ("public_sets", '{"hellaswag": 0}', "hellaswag: a positive number of items or null (the whole set), got 0"),
    ("public_sets", '{"hellaswag": true}', "hellaswag: a positive number of items or null"),
    ("public_sets", '{"triviaqa": 10}', "unknown public set 'triviaqa'; known: hellaswag, mmlu-redux, gsm8k"),
])
def test_garbage_is_refused_beside_its_field_and_nothing_is_saved(admin_client, settings_policy, field, value,
                                                                   reason):
    response = admin_client.post(ADD, {**GOOD, field: value})
    assert response.status_code == 200  # the form again, not a redirect to the saved object
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field], errors
    assert reason in html.unescape(" ".join(errors[field]))
    assert reason in html.unescape(response.content.decode())  # shown to the admin, beside the field
    assert not WatchPolicy.objects.exists()


def test_the_watch_plans_with_the_admins_values_once_saved(admin_client, settings_policy):
    small = _model("acme/small-chat", params=135e6, size_class="<1B", downloads=10)
    _model("acme/mid-chat", params=1.2e9, size_class="1-5B", downloads=10_000)
    _model("acme/third-chat", params=360e6, size_class="<1B", downloads=50)
    _model("acme/big-chat", params=3e9, size_class="1-5B", downloads=99_999)
    # Under the settings: three probes, the hellaswag subset, every model within 8B, most downloaded first.
    before = {i.model.hub_id: i for i in watch.plan()}
    assert before["acme/big-chat"].probes == ["benchmark", "benchmark:hellaswag", "tooling", "finetune"]

    response = admin_client.post(ADD, GOOD)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert WatchPolicy.objects.count() == 1
    items = {i.model.hub_id: i for i in watch.plan()}
    # The size cap of 1.5B leaves big-chat out; the smallest first (size class, then parameters)
    # with two a day: small-chat and third-chat, mid-chat waits.
    assert items["acme/big-chat"].probes == [] and "3.0B parameters is over the 1.5B cap" in items["acme/big-chat"].why
    assert items["acme/small-chat"].probes == ["tooling", "benchmark", "benchmark:gsm8k"]
    assert items["acme/third-chat"].probes == ["tooling", "benchmark", "benchmark:gsm8k"]
    assert items["acme/mid-chat"].probes == [] and "the admin's max per day=2 reached (priority size_class)" in \
        items["acme/mid-chat"].why

    watch.queue(list(items.values()), trigger="test")
    runs = {p.run.params["watch"]["label"]: p for p in ProbeRun.objects.filter(model=small)}
    assert runs["tooling"].config["generation_tokens"] == 4
    assert (runs["benchmark"].config["item_set"], runs["benchmark"].config["limit"]) == ("benchmark-v1", 3)
    assert (runs["benchmark:gsm8k"].config["item_set"], runs["benchmark:gsm8k"].config["limit"]) == ("gsm8k", 7)
    assert {r.resolved_revision for r in runs.values()} == {SHA}


def test_one_policy_only_and_deleting_it_goes_back_to_the_settings(admin_client, settings_policy):
    assert admin_client.post(ADD, GOOD).status_code == 302
    assert admin_client.get(ADD).status_code == 403  # a second one cannot be added
    policy = WatchPolicy.objects.get()
    change = f"/admin/gpu_workers/watchpolicy/{policy.pk}/change/"
    assert admin_client.post(change, {**GOOD, "max_per_day": "-5"}).status_code == 200
    assert WatchPolicy.objects.get().max_per_day == 2  # the refused edit changed nothing
    assert admin_client.post(change, {**GOOD, "max_per_day": "5"}).status_code == 302
    assert watch.watch_config().max_per_day == 5 and watch.watch_config().source == "admin"
    assert admin_client.post(f"/admin/gpu_workers/watchpolicy/{policy.pk}/delete/", {"post": "yes"}).status_code == 302
    assert watch.watch_config().max_per_day == 9 and watch.watch_config().source == "settings"
