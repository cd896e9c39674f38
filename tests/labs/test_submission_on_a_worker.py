"""End to end on real parts: a token-authenticated API submission of SmolLM2-135M-Instruct (served
from its locally registered GGUF) goes through Redis to a real `gpu` Celery worker process and runs
to completion; meanwhile unauthenticated, wrong-lab and revoked-token requests to stop or publish
it are refused and change nothing (the run still succeeds, still private)."""

import time

import pytest
from django.test import Client

from observatory.labs.models import AuditEvent, Submission
from observatory.labs.tokens import create_token, revoke
from tests.conftest import wait_for
from tests.labs.conftest import SMOLLM2_ID, Api, counts

pytestmark = [pytest.mark.celery, pytest.mark.probes, pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

GPU_WORKER_ARGS = ["--max-tasks-per-child", "1", "--prefetch-multiplier", "1"]


def test_it_runs_a_token_submission_to_completion_on_a_real_worker(
        celery_worker_factory, broker_mode, smollm2_registered, labs, tokens):
    worker = celery_worker_factory(queues="gpu", env={"PROBE_LOCAL_SOURCES": f"{SMOLLM2_ID}={smollm2_registered}"},
                                   extra_args=GPU_WORKER_ARGS)
    api = Api(Client(), tokens["a"])
    response = api.post("/api/submissions", {"hub_id": SMOLLM2_ID, "probes": ["benchmark"],
                                             "config": {"benchmark": {"limit": 1}}})
    assert response.status_code == 201, response.content
    submission_id = response.json()["id"]

    seen = []

    def progressed():
        state = api.get(f"/api/submissions/{submission_id}").json()
        seen.append((state["status"], state["runs"][0]["progress"], state["runs"][0]["current_step"]))
        return state["status"] == "running" and state["runs"][0]["progress"] > 0

    wait_for(progressed, timeout=90, interval=0.3, message=f"the run to start and report progress; {worker.logs()}")

    # A second submission waits behind it on the one-job worker; the lab cancels it while it is queued.
    queued = api.post("/api/submissions", {"hub_id": SMOLLM2_ID, "probes": ["tooling"]}).json()
    assert queued["status"] == "queued"
    assert api.post(f"/api/submissions/{queued['id']}/cancel").json()["status"] == "cancelled"

    # While it runs: outsiders can neither stop nor publish it, and nothing changes.
    old_row, revoked_plain = create_token(labs["a"], "old")
    revoke(old_row)
    before = {k: v for k, v in counts().items() if k != "active_runs"}
    for intruder, status in ((Api(Client(), None), 401), (Api(Client(), tokens["b"]), 404),
                             (Api(Client(), revoked_plain), 401)):
        assert intruder.post(f"/api/submissions/{submission_id}/cancel").status_code == status
        assert intruder.post(f"/api/submissions/{submission_id}/publish").status_code == status
        assert intruder.get(f"/api/submissions/{submission_id}").status_code == status
    assert {k: v for k, v in counts().items() if k != "active_runs"} == before

    def finished():
        state = api.get(f"/api/submissions/{submission_id}").json()
        seen.append((state["status"], state["runs"][0]["progress"], state["runs"][0]["current_step"]))
        return state if state["status"] in ("succeeded", "failed", "cancelled") else None

    started = time.monotonic()
    state = wait_for(finished, timeout=240, interval=0.5, message=f"the run to finish; {worker.logs()}")
    assert state["status"] == "succeeded", (state, worker.logs())
    run = state["runs"][0]
    assert run["progress"] == 1.0 and run["error"] == ""
    progress_values = [p for s, p, _ in seen if s == "running"]
    assert progress_values == sorted(progress_values) and len(set(progress_values)) >= 2  # it advanced
    assert state["visibility"] == "private"  # the intruders' publish did nothing
    result = run["result"]
    assert result["metrics"]["item_set_hash"] and result["versions"]["torch"] and result["device"]["type"]
    assert result["config"]["limit"] == 1 and result["model"]["origin"] == "registered"
    assert Submission.objects.get(pk=submission_id).probe_runs.get().resolved_revision == state["resolved_revision"]
    assert AuditEvent.objects.filter(action="submission.created", token=tokens["row_a"]).count() == 2
    # The worker received the cancelled run's task too, and left it alone.
    wait_for(lambda: "gone or already claimed" in worker.logs(), timeout=60, message="the cancelled task to be skipped")
    skipped = api.get(f"/api/submissions/{queued['id']}").json()["runs"][0]
    assert skipped["status"] == "cancelled" and skipped["started_at"] is None
    print(f"probe run finished {time.monotonic() - started:.1f}s after the intruder checks; {len(seen)} polls")
