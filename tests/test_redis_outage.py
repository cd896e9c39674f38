"""With Redis down, pages serve from the database, the submission API answers 503, and both come
back by themselves when Redis does (issue 12, defect 5).

A private redis-server on a port of its own is started and really stopped (the shared one on
6379 is never touched); the cache settings are the project's own, computed by settings.py
for CACHE_REDIS_URL pointing at it.
"""

import json
import runpy
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from observatory.catalog.models import HubModel

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "observatory" / "settings.py"

PAGES = [
    "/", "/api/stats", "/methodology", "/queue/", "/queue.json", "/status/",
    "/dashboards/cumulative-downloads-by-region", "/dashboards/licence-mix?scope=all",
    "/embed/releases-by-region", "/api/metrics/relative-adoption", "/api/metrics/licence-mix?format=csv",
    "/charts/licence-mix.svg", "/orgs/meta-llama", "/models/meta-llama/Llama-3.1-8B",
    "/accounts/login/",
]


class PrivateRedis:
    def __init__(self, tmp_path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is not installed")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        with pytest.raises(redis.ConnectionError):  # really unreachable
            redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    server = PrivateRedis(tmp_path)
    server.start()
    # The project's own cache settings for a deployment whose cache and broker are this Redis.
    monkeypatch.setenv("CACHE_REDIS_URL", server.url)
    monkeypatch.setenv("REDIS_URL", server.url)
    settings.CACHES = runpy.run_path(str(SETTINGS_FILE))["CACHES"]
    yield server
    if server.proc and server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(timeout=10)


@pytest.fixture
def lab_token(db, django_user_model):
    from observatory.labs.models import Lab, Membership
    from observatory.labs.tokens import create_token

    lab = Lab.objects.create(name="Outage Lab", slug="outage-lab")
    user = django_user_model.objects.create_user("olga", password="not-used-here-123")
    Membership.objects.create(lab=lab, user=user)
    return create_token(lab, "ci", user)[1]


def _submit(client, token):
    return client.post("/api/submissions", json.dumps({"hub_id": "openai-community/gpt2", "probes": ["tooling"]}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_it_serves_pages_from_the_database_and_refuses_submissions_with_503_while_redis_is_down(
        loaded_db, client, private_redis, lab_token, settings):
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 1000
    settings.EXPORT_RENDERS_PER_MINUTE = 1000
    auth = {"HTTP_AUTHORIZATION": f"Bearer {lab_token}"}
    assert client.get("/api/submissions", **auth).status_code == 200  # Redis up
    up = {url: client.get(url) for url in PAGES}
    assert {url: r.status_code for url, r in up.items()} == {url: 200 for url in PAGES}

    private_redis.stop()
    client.raise_request_exception = False  # a 500 must show as a 500, not as the test's own error
    down = {url: client.get(url) for url in PAGES}
    assert {url: r.status_code for url, r in down.items()} == {url: 200 for url in PAGES}
    assert down["/api/stats"].json() == up["/api/stats"].json()  # the same numbers, from the database
    assert down["/api/metrics/relative-adoption"].json() == up["/api/metrics/relative-adoption"].json()
    llama = HubModel.objects.get(hub_id="meta-llama/Llama-3.1-8B")
    assert llama.hub_id in down["/models/meta-llama/Llama-3.1-8B"].content.decode()

    for refused in (client.get("/api/submissions", **auth), _submit(client, lab_token)):
        assert refused.status_code == 503 and refused["Content-Type"] == "application/json"
        assert "unreachable" in refused.json()["error"] and int(refused["Retry-After"]) >= 1

    private_redis.start()  # same port, a fresh and empty server: the app reconnects by itself
    assert client.get("/api/submissions", **auth).status_code == 200
    assert client.get("/api/metrics/licence-mix").status_code == 200
    assert redis.Redis.from_url(private_redis.url).dbsize() > 0  # the cache is written again
