"""A probe run whose broker message was lost (the broker's Redis database flushed after the
enqueue) does not stay queued forever: beat's resend task re-sends it and a real worker takes it;
lost again every time, it is failed after PROBE_MAX_RESENDS re-sends with the reason on the row,
stops counting against the lab's active runs, and a resubmission is a new submission. A run whose
message is still waiting in the queue is left alone."""

import time

import pytest
import redis
from django.test import Client

from gpu_workers.tasks import resend_lost_probe_runs
from tests.conftest import wait_for
from tests.labs.conftest import SMOLLM2_ID, Api

pytestmark = [pytest.mark.celery, pytest.mark.probes, pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

GPU_WORKER_ARGS = ["--max-tasks-per-child", "1", "--prefetch-multiplier", "1"]
BOUND = 1  # seconds queued after a send before a run whose message is gone counts as lost


def lose_the_broker_messages(app) -> None:
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        assert client.llen("gpu") >= 1  # the message was there, and now it is not
    redis.Redis.from_url(app.conf.broker_url).flushdb()


def test_it_resends_a_run_whose_message_was_lost_and_fails_it_when_lost_every_time(
        celery_worker_factory, broker_mode, smollm2_registered, labs, tokens, settings):
    settings.PROBE_QUEUED_RESEND_SECONDS = BOUND
    settings.PROBE_MAX_RESENDS = 2
    api = Api(Client(), tokens["a"])
    body = {"hub_id": SMOLLM2_ID, "probes": ["benchmark"], "config": {"benchmark": {"limit": 1}}}

    # Lost at every send: re-sent twice, then failed, visibly, and no longer blocking the lab.
    doomed = api.post("/api/submissions", body).json()
    lose_the_broker_messages(broker_mode)
    assert resend_lost_probe_runs() == {"resent": 0, "failed": 0}  # not queued long enough yet
    for attempt in (1, 2):
        time.sleep(BOUND + 0.2)
        assert resend_lost_probe_runs() == {"resent": 1, "failed": 0}
        run = api.get(f"/api/submissions/{doomed['id']}").json()["runs"][0]
        assert run["status"] == "queued" and run["current_step"].startswith(f"re-sent ({attempt} of 2)")
        lose_the_broker_messages(broker_mode)
    time.sleep(BOUND + 0.2)
    assert resend_lost_probe_runs() == {"resent": 0, "failed": 1}
    state = api.get(f"/api/submissions/{doomed['id']}").json()
    assert state["status"] == "failed"
    assert state["runs"][0]["error"].startswith("lost in the queue: its broker message was lost")
    assert "re-sent 2 time(s)" in state["runs"][0]["error"]

    # The resubmission is a new submission. Its message is lost once; re-sent, it waits in the
    # queue (left alone, however long), and a real worker started later takes it.
    again = api.post("/api/submissions", body)
    assert again.status_code == 201 and again.json()["id"] != doomed["id"], again.content
    lose_the_broker_messages(broker_mode)
    time.sleep(BOUND + 0.2)
    assert resend_lost_probe_runs() == {"resent": 1, "failed": 0}
    time.sleep(BOUND + 0.2)
    assert resend_lost_probe_runs() == {"resent": 0, "failed": 0}  # its message is in the queue now
    worker = celery_worker_factory(queues="gpu", env={"PROBE_LOCAL_SOURCES": f"{SMOLLM2_ID}={smollm2_registered}"},
                                   extra_args=GPU_WORKER_ARGS)

    def taken():
        state = api.get(f"/api/submissions/{again.json()['id']}").json()
        return state if state["runs"][0]["started_at"] else None

    # The worker claims the run from the re-sent message: running, started, and reporting. Running
    # it to the end would add minutes of model conversion and scoring that prove nothing more here
    # (tests/labs/test_submission_on_a_worker.py runs a submission to completion).
    state = wait_for(taken, timeout=120, interval=0.3, message=f"a worker to take the re-sent run; {worker.logs()}")
    assert state["status"] == "running", state
    assert "probe start run=" in worker.logs()
    assert resend_lost_probe_runs() == {"resent": 0, "failed": 0}
    assert api.post(f"/api/submissions/{state['id']}/cancel").json()["status"] == "cancelled"
    worker.kill()  # it would stop only at its next progress report, after the model conversion
