"""Gated models' Hub access tokens: Fernet-encrypted at rest, one per probe run, gone when it ends.

The Fernet key is derived from SECRET_KEY (the deployment's one secret), so the ciphertext in the
database is useless without it. A worker asks `hub_token_for(probe_run_id)` right before it
downloads; once the run has ended the row is deleted (signals.py, and the sweep in tasks.py).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from observatory.catalog.models import Run
from observatory.labs.models import RunAccessToken

ENDED = (Run.Status.SUCCEEDED, Run.Status.FAILED, Run.Status.CANCELLED)


def _fernet() -> Fernet:
    key = hashlib.sha256(b"observatory.labs.access-token:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(token: str) -> bytes:
    return _fernet().encrypt(token.encode())


def decrypt(ciphertext: bytes) -> str:
    return _fernet().decrypt(bytes(ciphertext)).decode()


def store(probe_run, token: str) -> RunAccessToken:
    row, _ = RunAccessToken.objects.update_or_create(probe_run=probe_run, defaults={"ciphertext": encrypt(token)})
    return row


def hub_token_for(probe_run_id: int) -> str | None:
    """The run's own Hub token while the run is live; None if it has none, has ended, or won't decrypt."""
    row = (
        RunAccessToken.objects.select_related("probe_run__run")
        .filter(probe_run_id=probe_run_id)
        .first()
    )
    if row is None:
        return None
    if row.probe_run.run.status in ENDED:
        row.delete()
        return None
    try:
        return decrypt(row.ciphertext)
    except InvalidToken:  # SECRET_KEY rotated since: the token is unusable, drop it
        row.delete()
        return None


def purge_ended() -> int:
    """Delete the tokens of every run that has ended; returns how many."""
    deleted, _ = RunAccessToken.objects.filter(probe_run__run__status__in=ENDED).delete()
    return deleted
