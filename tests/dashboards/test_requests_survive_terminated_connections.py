"""After PostgreSQL drops every session (a restart, or pg_terminate_backend), the next request on a
long-lived server thread succeeds: Django's kept connection is health-checked and replaced, and a
dead pooled Arrow connection is retried once on a fresh one. Before, the first request of each
thread failed with "terminating connection due to administrator command"."""

import datetime as dt

import pytest
from django.db import connection

from observatory.catalog.models import HubModel
from tests.conftest import require_postgres
from tests.web_server_process import WebServer, backends, only_this_tests_sessions, own_backend_pid, terminate_backends

# A real web server process on the real PostgreSQL.
pytestmark = [pytest.mark.postgres]


@pytest.fixture
def long_lived_server(transactional_db, tmp_path):
    require_postgres()
    HubModel.objects.bulk_create([
        HubModel(hub_id=f"acme/model-{i}", author="acme", licence_id="mit", licence_class="permissive",
                 created_at=dt.datetime(2024, 1, 1 + i, tzinfo=dt.UTC), tracked=True) for i in range(10)])
    only_this_tests_sessions()
    # One request thread for the server's life, keeping Django's connection as gunicorn's would.
    server = WebServer("wsgiref", tmp_path / "server.log", env={"DATABASE_CONN_MAX_AGE": "600",
                                                                  "METRIC_COMPUTATIONS_PER_MINUTE": "1000000"})
    yield server
    server.stop()


def test_it_answers_the_first_requests_after_every_session_was_terminated(long_lived_server):
    server = long_lived_server
    database, mine = connection.settings_dict["NAME"], {own_backend_pid()}
    assert server.get("/api/models?organization=acme")[0] == 200
    assert server.get("/api/metrics/licence-mix?scope=all&end=2024-01-05")[0] == 200
    before = backends(database, but=mine)
    assert len(before) == 2, before  # kept open: Django's connection and one Arrow connection

    assert terminate_backends(database, keep=mine) == len(before)

    # A metric (Arrow pool, and Django's connection for the dates) and a plain API read (Django only).
    status, body = server.get("/api/metrics/licence-mix?scope=all&end=2024-01-07")
    assert status == 200, server.logs()
    assert server.get("/api/models?organization=acme")[0] == 200, server.logs()
    assert not {b[0] for b in backends(database, but=mine)} & {b[0] for b in before}  # all new sessions
