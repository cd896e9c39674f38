"""`make serve`'s Procfile set under honcho, as `make serve` starts it (gunicorn, one default,crawl
worker, beat, and the gpu worker where the probes extra is installed) against the test database and
the test Redis: a crawl task sent to the broker is done by the set's worker, a page comes through
gunicorn, and SIGINT (what Ctrl-C sends) ends every process the set started, with no SIGKILL."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import transaction

from ingest.hub.crawl import start_crawl
from observatory.catalog.models import HubModel, Run
from tests.conftest import REPO_ROOT, require_redis_url, wait_for
from tests.web_server_process import database_url, free_port

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

BIN = Path(sys.executable).parent


def _procfile_names() -> list[str]:
    """The process types the Procfile declares, read as plain `name: command` lines."""
    lines = (REPO_ROOT / "Procfile").read_text().splitlines()
    return [line.split(":", 1)[0] for line in lines if line and not line.startswith("#")]


def _descendants(root: int) -> set[int]:
    """Every live process under `root`, from /proc's parent links."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except OSError:
        return 0, {}, ""


def test_the_serve_set_crawls_serves_and_stops_on_ctrl_c(
        transactional_db, broker_mode, replay_hub, hub_env, empty_catalog, tmp_path):
    import redis

    assert set(_procfile_names()) == {"web", "worker", "gpu", "beat"}
    redis_url = require_redis_url()
    redis.Redis.from_url(redis_url).flushdb()  # no stale messages from an earlier run
    hub = replay_hub()
    port = free_port()
    with_gpu = all(importlib.util.find_spec(m) for m in ("torch", "peft", "transformers"))
    procs = ["web", "worker", "beat"] + (["gpu"] if with_gpu else [])
    env = {**os.environ, **hub_env(hub, CRAWL_PAGE_SIZE=100), "DATABASE_URL": database_url(), "REDIS_URL": redis_url,
           "EMBEDDED_TASKS": "0", "DEBUG": "false", "PYTHONUNBUFFERED": "1", "WATCH_ENABLED": "0",
           "OBSERVATORY_HOME": str(tmp_path), "BIN": str(BIN), "WEB_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "1"}
    log = tmp_path / "honcho.log"
    honcho = subprocess.Popen([str(BIN / "honcho"), "-f", "Procfile", "start", *procs], cwd=REPO_ROOT, env=env,
                              stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with transaction.atomic():
            run = start_crawl([{"kind": "top", "limit": 200}], name="serve crawl")
        done = wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
                        timeout=60, message=f"the crawl through the serve set\n{log.read_text()[-4000:]}")
        assert done.status == "succeeded", done.error
        assert HubModel.objects.count() == 200

        status, headers, body = wait_for(lambda: (r := _get(f"http://127.0.0.1:{port}/status/"))[0] and r,
                                         timeout=30, message=f"gunicorn\n{log.read_text()[-4000:]}")
        assert status == 200 and headers.get("Server", "").startswith("gunicorn")
        assert "serve crawl" in body

        started = _descendants(honcho.pid)
        text = log.read_text()
        for name in procs:
            assert f"{name}.1 started" in text, name
        assert "beat: Starting" in text and "default@" in text
        assert ("gpu@" in text) == with_gpu
    finally:
        if honcho.poll() is None:
            started = _descendants(honcho.pid) | locals().get("started", set())
            os.killpg(honcho.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            raise
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in started if _alive(pid)] == []
    assert "SIGKILL" not in log.read_text()  # every process stopped on its SIGTERM
    assert len(started) >= len(procs)
