"""The errors a probe raises. Each says in plain words why a model was refused or a run stopped."""

from __future__ import annotations


class ProbeError(Exception):
    """Base class: a probe could not run or could not finish."""


class ModelRefused(ProbeError, ValueError):
    """The model is not acceptable: missing, gated, unsupported format, unsafe or over a cap.

    Raised before any of the model's code or weights are executed or unpickled.
    """


class DownloadFailed(ProbeError):
    """The Hub could not be reached, timed out or answered a server error (5xx, 429) while the
    model's files were looked up or fetched. It says nothing about the model: the release watch
    asks for the run again later (gpu_workers.watch_retries), where a refusal is never retried."""


class ProbeTimeout(ProbeError):
    """The run went past its time budget."""


class ProbeInterrupted(ProbeError):
    """The run was asked to stop (cancelled, or the worker is shutting down)."""
