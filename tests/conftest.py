"""Shared fixtures: where the real data lives, and a real Celery worker process.

Tests that claim PostgreSQL, Redis or Celery use the real servers named by DATABASE_URL and
REDIS_URL (the README's test command points them at the local servers). They fail, not skip,
when those are missing, so a green run means they really ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path:
    configured = os.environ.get("OBSERVATORY_TEST_DATA_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data set (../shared/data beside the checkout, or OBSERVATORY_TEST_DATA_DIR)."""
    path = _shared_data_dir()
    if not (path / "README.md").exists():
        pytest.fail(f"shared data not found at {path}; set OBSERVATORY_TEST_DATA_DIR")
    return path


@pytest.fixture(autouse=True, scope="session")
def _fresh_gguf_conversions(tmp_path_factory):
    """Probes keep converted GGUF models (probes.loading): one fresh cache for the session, shared
    with every worker process it starts, so each run converts once and then loads the kept copy."""
    os.environ["PROBE_GGUF_CACHE_DIR"] = str(tmp_path_factory.mktemp("gguf-converted"))
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _publish_data_versions_at_once(settings):
    """A bumped data version is read at once, as in the embedded default: no test but the warm's
    own (tests/dashboards/test_warming.py, which turns it on) waits for a worker to warm the cache."""
    settings.DATA_VERSION_WARM = False
    yield


def require_redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("this test needs a real Redis: set REDIS_URL (the README's test command does)")
    return url


def require_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL (the README's test command does)")


class WorkerProcess:
    """A real `celery worker` subprocess on the test database and the Redis broker."""

    def __init__(self, queues: str, env: dict[str, str], log_path: Path, concurrency: int = 1, extra_args=()):
        self.queues = queues
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.log_path, "ab")
        cmd = [
            sys.executable, "-m", "celery", "-A", "observatory", "worker",
            "-Q", self.queues, "-c", str(self.concurrency), "--pool", "prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
            "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h", *self.extra_args,
        ]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.logs()}")
            if b" ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"celery worker not ready after {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-20_000:]

    def kill(self) -> None:
        """SIGKILL the whole worker process group, as a crash or an OOM kill would."""
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_factory(transactional_db, tmp_path):
    """Start real Celery workers: `celery_worker_factory(queues="crawl")`. Stopped after the test.

    The test must commit its data (this fixture implies transactional_db) so the worker, a
    separate process, sees it.
    """
    from django.db import connection

    redis_url = require_redis_url()
    require_postgres()
    settings_dict = connection.settings_dict
    db_url = (
        f"postgresql://{settings_dict['USER'] or ''}"
        f"{':' + settings_dict['PASSWORD'] if settings_dict.get('PASSWORD') else ''}"
        f"@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # no stale messages from an earlier run
    workers: list[WorkerProcess] = []

    def start(queues: str = "default", concurrency: int = 1, env: dict | None = None, extra_args=()) -> WorkerProcess:
        worker_env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "EMBEDDED_TASKS": "0",
            "DATA_VERSION_WARM": "0",  # as in this process (_publish_data_versions_at_once)
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        worker = WorkerProcess(queues, worker_env, tmp_path / f"worker-{len(workers)}.log", concurrency, extra_args)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def broker_mode(settings):
    """Send tasks to the real broker from the test process (not in-process)."""
    require_redis_url()
    from observatory.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = settings.EMBEDDED_TASKS


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.25, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture(scope="session")
def loaded_db(django_db_setup, django_db_blocker, shared_data):
    """The whole shared data set bootstrapped once into the test database.

    Non-transactional tests (rolled back after each) see it; pytest-django runs transactional
    tests, which flush tables, after all of them.
    """
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("bootstrap", "--data-dir", str(shared_data), "--no-progress", verbosity=0)
    return shared_data


@pytest.fixture
def keep_test_connection():
    """Django's WSGI handler closes the DB connection after each request; the test client avoids that
    by disconnecting the handler, and so must schemathesis's WSGI calls, or the test's transaction
    would be closed under it."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The fast tier first. Its catalogue tests store a few made-up rows and read the whole
    catalogue back, so they must run before the session's bootstrap of the real data (loaded_db)
    is committed into the same test database; `make test-fast` runs them on an empty SQLite file."""
    fast = [item for item in items if item.get_closest_marker("fast")]
    if fast:
        items[:] = fast + [item for item in items if not item.get_closest_marker("fast")]
