"""PNG, SVG and PDF exports through kaleido, with one browser kept running for the process.

kaleido drives Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium); starting it costs
seconds, so the first export starts a persistent sync server and later ones reuse it.

The browser renders one figure at a time. At most EXPORT_MAX_CONCURRENT exports of a process
are in flight (rendering or waiting for the browser); one more raises ExportBusy at once (the
view answers 503 + Retry-After) instead of joining a queue that grows with the attack.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings

import plotly.graph_objects as go
import plotly.io as pio
from django.conf import settings

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
WIDTH = 1200  # the height is the figure's own (charts.theme.HEIGHT)

# The browser driver logs every step at INFO, including from __del__ at interpreter exit.
logging.getLogger("choreographer").setLevel(logging.WARNING)
logging.getLogger("kaleido").setLevel(logging.WARNING)

_lock = threading.Lock()
_started = False
_slots_lock = threading.Lock()
_in_flight = 0


class ExportUnavailable(RuntimeError):
    pass


class ExportBusy(RuntimeError):
    retry_after = 5  # seconds: about two renders


@contextlib.contextmanager
def render_slot():
    """One of the process's EXPORT_MAX_CONCURRENT export slots, or ExportBusy if all are taken."""
    global _in_flight
    bound = int(getattr(settings, "EXPORT_MAX_CONCURRENT", 2))
    with _slots_lock:
        if _in_flight >= bound:
            raise ExportBusy(f"all {bound} image renders of this server are busy; try again in a few seconds")
        _in_flight += 1
    try:
        yield
    finally:
        with _slots_lock:
            _in_flight -= 1


def chromium_path() -> str:
    return getattr(settings, "CHROMIUM_PATH", None) or os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def server_export_available() -> bool:
    """Whether this process can render images (the check figure_bytes makes first). The chart page
    asks it too: without Chromium its export buttons draw the image in the reader's browser."""
    return os.path.exists(chromium_path())


def _ensure_browser() -> None:
    global _started
    if _started:
        return
    path = chromium_path()
    if not server_export_available():
        raise ExportUnavailable(f"image export needs Chromium at {path} (set CHROMIUM_PATH or install chromium)")
    os.environ.setdefault("BROWSER_PATH", path)
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    _started = True


def figure_bytes(fig: go.Figure, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    with render_slot(), _lock:  # one browser, one export at a time; a bounded number waiting
        _ensure_browser()
        with warnings.catch_warnings():
            # plotly passes its default kaleido options even to a running server; harmless.
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            return pio.to_image(fig, format=fmt, width=WIDTH, scale=1 if fmt != "png" else 2)


def stop_browser() -> None:
    """Close the persistent browser (at shutdown, or at the end of a test session)."""
    global _started
    with _lock:
        if _started:
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
            _started = False
