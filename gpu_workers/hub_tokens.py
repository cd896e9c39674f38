"""Which Hub token a probe run downloads with: its own, if an app above provides one, else HF_TOKEN.

The labs app stores a gated model's token per run (observatory.labs.access_tokens) and registers
its lookup here in LabsConfig.ready, so gpu_workers imports nothing from the apps that use it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

_providers: list[Callable[[int], str | None]] = []


def provide(lookup: Callable[[int], str | None]) -> None:
    """Register `lookup(probe_run_id) -> token or None`; asked in registration order."""
    if lookup not in _providers:
        _providers.append(lookup)


def hub_token(probe_run_id: int) -> str | None:
    for lookup in _providers:
        token = lookup(probe_run_id)
        if token:
            return token
    return settings.HF_TOKEN
