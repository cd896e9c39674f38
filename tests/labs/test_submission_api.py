"""POST /api/submissions and the web form: garbage is refused field by field and creates nothing;
a good submission is pinned, queued and enqueued only after commit; duplicates return the existing
submission; rate limits and quotas answer 429; gated models' tokens are encrypted and short-lived."""

import json

import pytest

from gpu_workers.models import ProbeRun
from observatory.catalog.models import Run
from observatory.labs import access_tokens
from observatory.labs.models import AuditEvent, RunAccessToken, Submission
from observatory.labs.tasks import purge_spent_access_tokens
from tests.labs.conftest import SMOLLM2_ID, counts

pytestmark = pytest.mark.django_db


def _strings_holding(value, secret, path="$"):
    """Every key or string value (with where it sits) that contains `secret`, walking dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            if secret in str(key):
                yield f"{path} key {key!r}"
            yield from _strings_holding(item, secret, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings_holding(item, secret, f"{path}[{index}]")
    elif secret in str(value):
        yield path

SMOL = {"hub_id": SMOLLM2_ID, "probes": ["tooling"]}


@pytest.mark.parametrize("raw, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"\xff\xfe\x00garbage", "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 413),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    (b'{"hub_id": ' + b"9" * 5000 + b"}", "application/json", 400),
    (b'{"hub_id": NaN}', "application/json", 400),
    (b"   ", "application/json", 400),
    (b"null", "application/json", 400),
    (b'"acme/model"', "application/json", 400),
    (b"hub_id=acme/model", "application/x-www-form-urlencoded", 415),
    (b'{"hub_id": "acme/model"}', "text/plain", 415),
    (b'{"hub_id": "acme/m\\u0000odel"}', "application/json", 400),
    (b'{"hub_id": "acme/model\\ud800"}', "application/json", 400),
    (b'{"hub_id": "../../etc/passwd"}', "application/json", 400),
    (b'{"hub_id": "acme/model", "probes": ["tooling"], "lab": "lab-b"}', "application/json", 400),
    (b'{"hub_id": {"$gt": ""}}', "application/json", 400),
])
def test_it_refuses_garbage_bodies_clearly_and_creates_nothing(api_a, raw, content_type, status):
    before = counts()
    response = api_a.post("/api/submissions", raw=raw, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["error"]
    assert counts() == before


def test_it_names_each_bad_field_in_the_answer(api_a):
    body = api_a.post("/api/submissions", {"hub_id": "a b", "probes": ["x"], "visibility": "world"}).json()
    assert set(body["errors"]) == {"hub_id", "probes", "visibility"}
    assert AuditEvent.objects.filter(action="submission.rejected").exists()


def test_it_accepts_pins_and_queues_a_submission_enqueued_only_on_commit(
        api_a, smollm2_registered, django_capture_on_commit_callbacks, tokens):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_a.post("/api/submissions", {**SMOL, "probes": ["tooling", "benchmark"],
                                                   "config": {"benchmark": {"limit": 2}}})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["pin_kind"] == "local-sha256" and len(body["resolved_revision"]) == 64
    assert body["status"] == "queued" and body["visibility"] == "private" and body["duplicate"] is False
    assert len(callbacks) == 2  # one task per probe, sent only once the rows are committed
    submission = Submission.objects.get(pk=body["id"])
    runs = {p.probe: p for p in submission.probe_runs.select_related("run")}
    assert set(runs) == {"tooling", "benchmark"} and all(p.run.status == "queued" for p in runs.values())
    assert runs["benchmark"].config["limit"] == 2 and not runs["tooling"].public
    assert all(p.resolved_revision == body["resolved_revision"] for p in runs.values())
    assert AuditEvent.objects.filter(action="submission.created", submission=submission, token=tokens["row_a"]).exists()


def test_it_returns_the_existing_submission_for_a_duplicate(api_a, smollm2_registered):
    first = api_a.post("/api/submissions", SMOL).json()
    before = counts()
    again = api_a.post("/api/submissions", {**SMOL, "visibility": "private"})
    assert again.status_code == 200 and again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert counts() == before
    other_config = api_a.post("/api/submissions", {**SMOL, "probes": ["benchmark"], "config": {"benchmark": {"limit": 3}}})
    assert other_config.status_code == 201 and other_config.json()["id"] != first["id"]


def test_it_accepts_a_resubmission_after_the_first_failed(api_a, smollm2_registered):
    first = api_a.post("/api/submissions", SMOL).json()
    Run.objects.filter(probe_run__submissions=first["id"]).update(status="failed")
    second = api_a.post("/api/submissions", SMOL)
    assert second.status_code == 201 and second.json()["id"] != first["id"]


def test_it_rate_limits_submissions_per_lab(api_a, api_b, smollm2_registered, settings):
    settings.LABS_SUBMISSIONS_PER_MINUTE = 2
    assert api_a.post("/api/submissions", SMOL).status_code == 201
    assert api_a.post("/api/submissions", {**SMOL, "probes": ["benchmark"]}).status_code == 201
    before = counts()
    limited = api_a.post("/api/submissions", {**SMOL, "probes": ["finetune"]})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert counts() == before
    assert api_b.post("/api/submissions", SMOL).status_code == 201  # another lab has its own budget


def test_it_rate_limits_api_requests_per_token(api_a, settings):
    settings.LABS_API_REQUESTS_PER_MINUTE = 3
    statuses = [api_a.get("/api/submissions").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_it_enforces_the_active_run_quota_and_daily_quota(api_a, smollm2_registered, settings):
    settings.LABS_MAX_ACTIVE_RUNS = 2
    assert api_a.post("/api/submissions", SMOL).status_code == 201
    before = counts()
    over = api_a.post("/api/submissions", {**SMOL, "probes": ["benchmark", "finetune"]})
    assert over.status_code == 429 and "at most 2 queued or running" in over.json()["error"]
    assert counts() == before
    settings.LABS_MAX_ACTIVE_RUNS = 10
    settings.LABS_SUBMISSIONS_PER_DAY = 1
    daily = api_a.post("/api/submissions", {**SMOL, "probes": ["benchmark"]})
    assert daily.status_code == 429 and "per day" in daily.json()["error"]


def test_it_stores_a_gated_models_token_encrypted_for_its_run_only_and_deletes_it_when_the_run_ends(
        api_a, replay_hub):
    refused = api_a.post("/api/submissions", {"hub_id": "meta-llama/Llama-3.1-8B-Instruct"})
    assert refused.status_code == 400 and "gated" in refused.json()["errors"]["access_token"]
    secret = "hf_secretLabToken0123456789"
    body = api_a.post("/api/submissions", {"hub_id": "meta-llama/Llama-3.1-8B-Instruct", "access_token": secret,
                                           "probes": ["tooling", "benchmark"]}).json()
    assert body["gated"] is True and body["resolved_revision"] == "0e9e39f249a16976918f6564b8830bc894c89659"
    # Under no key, at any depth, does the answer carry the token (or any part of a value holding it).
    assert list(_strings_holding(body, secret)) == []
    assert "access_token" not in json.dumps(body)
    rows = list(RunAccessToken.objects.select_related("probe_run__run"))
    assert len(rows) == 2 and all(secret.encode() not in bytes(r.ciphertext) for r in rows)
    first, second = rows
    assert access_tokens.hub_token_for(first.probe_run_id) == secret
    assert secret not in json.dumps(list(AuditEvent.objects.values("detail")))
    # Ended with save(): the signal deletes it at once.
    run = first.probe_run.run
    run.status = Run.Status.SUCCEEDED
    run.save()
    assert not RunAccessToken.objects.filter(pk=first.pk).exists()
    # Ended with a plain UPDATE (as the worker does): never handed out, and swept by the beat task.
    Run.objects.filter(pk=second.probe_run.run_id).update(status=Run.Status.FAILED)
    assert access_tokens.hub_token_for(second.probe_run_id) is None
    assert purge_spent_access_tokens() == 0 and RunAccessToken.objects.count() == 0


def test_it_sweeps_tokens_of_runs_ended_by_update(labs, make_submission):
    submission = make_submission(labs["a"], probes=("tooling",))
    probe_run = submission.probe_runs.get()
    access_tokens.store(probe_run, "hf_abcdefgh12345")
    Run.objects.filter(pk=probe_run.run_id).update(status=Run.Status.CANCELLED)
    assert purge_spent_access_tokens() == 1 and RunAccessToken.objects.count() == 0


def test_it_lists_shows_cancels_and_publishes_the_labs_own_submission(api_a, smollm2_registered, client):
    created = api_a.post("/api/submissions", {**SMOL, "probes": ["tooling", "benchmark"]}).json()
    listing = api_a.get("/api/submissions").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == created["id"]
    assert api_a.get("/api/submissions", limit="0").status_code == 400
    assert api_a.get("/api/submissions", offset="-3").status_code == 400
    detail = api_a.get(f"/api/submissions/{created['id']}").json()
    assert [r["probe"] for r in detail["runs"]] == ["benchmark", "tooling"]
    assert client.get(f"/profiles/{created['id']}/").status_code == 404
    published = api_a.post(f"/api/submissions/{created['id']}/publish").json()
    assert published["visibility"] == "public"
    assert ProbeRun.objects.filter(submissions=created["id"], public=True).count() == 2
    assert client.get(f"/profiles/{created['id']}/").status_code == 200
    cancelled = api_a.post(f"/api/submissions/{created['id']}/cancel").json()
    assert cancelled["cancelled_runs"] == 2 and cancelled["status"] == "cancelled"
    assert api_a.post(f"/api/submissions/{created['id']}/cancel").json()["cancelled_runs"] == 0
    actions = set(AuditEvent.objects.filter(submission=created["id"]).values_list("action", flat=True))
    assert {"submission.created", "submission.published", "submission.cancelled"} <= actions


def test_it_accepts_the_web_form_and_shows_a_live_status_page(client, labs, smollm2_registered):
    client.force_login(labs["alice"])
    assert 'name="csrfmiddlewaretoken"' in client.get("/labs/submit/").content.decode()
    response = client.post("/labs/submit/", {"hub_id": SMOLLM2_ID, "probes": ["benchmark"], "benchmark_limit": "2",
                                             "visibility": "private"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.submitted_by == labs["alice"] and submission.probe_runs.get().config["limit"] == 2
    page = client.get(response["Location"]).content.decode()
    # The live status comes from the site's own script (no inline code: the Content-Security-Policy),
    # which polls the status URL the page names.
    assert "/status.json" in page and "<script src=" not in page.split("<main>")[1]
    script_url = next(part.split('"')[0] for part in page.split('<script src="')[1:] if "submission.js" in part)
    script = client.get(script_url)
    assert "fetch(" in b"".join(script.streaming_content if script.streaming else [script.content]).decode()
    state = client.get(f"/labs/submissions/{submission.pk}/status.json").json()
    assert state["status"] == "queued" and state["runs"][0]["probe"] == "benchmark"
    artefacts = client.get(f"/labs/submissions/{submission.pk}/artefacts.json")
    assert "attachment" in artefacts["Content-Disposition"]
    assert artefacts.json()["reproduce"]["resolved_revision"] == submission.resolved_revision


@pytest.mark.parametrize("form", [
    {"hub_id": "../../etc/passwd", "probes": ["tooling"], "visibility": "private"},
    {"hub_id": "acme/model\x00", "probes": ["tooling"], "visibility": "private"},
    {"hub_id": "acme/model", "probes": ["everything"], "visibility": "private"},
    {"hub_id": "acme/model", "probes": ["tooling"], "visibility": "world"},
    {"hub_id": "x" * 5000, "probes": ["tooling"], "visibility": "private"},
    {"hub_id": "acme/model", "revision": "a b", "probes": ["tooling"], "visibility": "private"},
    {"hub_id": "acme/model", "probes": ["benchmark"], "benchmark_limit": "-4", "visibility": "private"},
    {},
])
def test_it_refuses_a_bad_form_with_messages_and_creates_nothing(client, labs, form):
    client.force_login(labs["alice"])
    before = counts()
    response = client.post("/labs/submit/", form)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert counts() == before


def test_it_cancels_a_running_run_and_leaves_finished_ones_alone(api_a, labs, make_submission):
    running = make_submission(labs["a"], status="running", progress=0.4, probes=("benchmark",))
    done = make_submission(labs["a"], hub_id="acme/done", status="succeeded", probes=("tooling",))
    body = api_a.post(f"/api/submissions/{running.pk}/cancel").json()
    assert body["cancelled_runs"] == 1 and body["runs"][0]["status"] == "cancelled"
    assert api_a.post(f"/api/submissions/{done.pk}/cancel").json()["runs"][0]["status"] == "succeeded"
