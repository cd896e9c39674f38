"""Probe runs whose broker message was lost: still queued, yet in no queue and held by no worker.

A run's task message can vanish between the commit that queued it and a worker (a Redis flush
or failover, an eviction, a restore that lost it): the run then stays queued forever, counts
against its lab's active-run cap, and a resubmission returns it as the existing submission.
The beat task gpu_workers.tasks.resend_lost_probe_runs re-sends such a run a bounded number of
times, then fails it with the reason on the row.

A run merely waiting its turn behind others is not lost, however long it waits: its message is
looked for in the broker first, which is why this reads kombu's Redis layout (the queue lists,
one per priority step, and the `unacked` hash of messages delivered to workers and not yet
acknowledged). Re-sending a message that is in fact still there would only cost a duplicate
(the task claims its run with a conditional UPDATE), but failing such a run would be wrong.
"""

from __future__ import annotations

import base64
import json
import logging

log = logging.getLogger(__name__)
TASK = "gpu_workers.tasks.run_probe"


def probe_runs_in_broker(queue: str = "gpu") -> set[int] | None:
    """Ids of the probe runs with a run_probe message waiting in `queue` or held by a worker.

    None when the broker is not Redis (the embedded default runs tasks in-process: nothing waits).
    """
    from observatory.celery import app

    with app.connection_for_write() as conn:
        if conn.transport.driver_type != "redis":
            return None
        channel = conn.default_channel
        client = channel.client
        raw = []
        for step in channel.priority_steps:
            raw.extend(client.lrange(channel._q_for_pri(queue, step), 0, -1))
        for held in client.hvals(channel.unacked_key):
            message, _exchange, _routing_key = json.loads(held)
            raw.append(message)
    found = set()
    for entry in raw:
        probe_run_id = _probe_run_id(json.loads(entry) if isinstance(entry, (bytes, str)) else entry)
        if probe_run_id is not None:
            found.add(probe_run_id)
    return found


def _probe_run_id(message: dict) -> int | None:
    """The probe run a Celery (protocol 2) run_probe message is for; None for any other message."""
    try:
        if message["headers"]["task"] != TASK:
            return None
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        return int(args[0])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        log.warning("unreadable message in the gpu queue (%s): %s", exc.__class__.__name__, str(message)[:200])
        return None
