"""A real web server process on the test database: `manage.py runserver` (a thread per request) or
the standard library's WSGI server (one long-lived request thread, as a gunicorn worker thread)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import REPO_ROOT

# One thread serving every request, kept for the process's life (wsgiref is single-threaded).
WSGIREF = ("import sys; from wsgiref.simple_server import make_server, WSGIRequestHandler;"
           "from django.core.wsgi import get_wsgi_application;"
           "WSGIRequestHandler.log_message = lambda *a: None;"
           "make_server('127.0.0.1', int(sys.argv[1]), get_wsgi_application()).serve_forever()")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = (s["USER"] or "") + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WebServer:
    def __init__(self, kind: str, log_path: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if kind == "runserver":
            cmd = [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"]
        else:
            cmd = [sys.executable, "-c", WSGIREF, str(self.port)]
        self.log_path = log_path
        full_env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "false", "PYTHONUNBUFFERED": "1",
                    "DJANGO_SETTINGS_MODULE": "observatory.settings", **(env or {})}
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=full_env, stdout=open(log_path, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not up after 60 s:\n{self.logs()}")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-10_000:]

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


def backends(database: str, *, but: set[int] = frozenset()) -> list[tuple[int, str, str, str]]:
    """(pid, application_name, state, last query) of the sessions on `database` but `but`, seen from another database."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                         password=s.get("PASSWORD") or None, dbname="postgres", autocommit=True) as conn:
        return conn.execute("SELECT pid, application_name, state, left(query, 150) FROM pg_stat_activity "
                            "WHERE datname = %s AND NOT pid = ANY(%s)", [database, list(but)]).fetchall()


def own_backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate_backends(database: str, keep: set[int]) -> int:
    """pg_terminate_backend on every session of `database` but `keep`, as a restart would end them."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                         password=s.get("PASSWORD") or None, dbname="postgres", autocommit=True) as conn:
        pids = [b[0] for b in backends(database, but=keep)]
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
        return len(pids)


def only_this_tests_sessions() -> None:
    """End the sessions earlier tests of this process left on the test database (a live server's
    finished threads, this process's own Arrow pool), so a count of sessions sees only the server
    under test. The test's own connection stays."""
    from django.db import connection

    from observatory.analytics.frames import close_arrow_connections

    close_arrow_connections()
    terminate_backends(connection.settings_dict["NAME"], keep={own_backend_pid()})
