"""PNG, SVG and PDF exports through kaleido, with one browser kept running for the process.

kaleido drives Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium); starting it costs
seconds, so the first export starts a persistent sync server and later ones reuse it.
"""

from __future__ import annotations

import os
import threading

import plotly.graph_objects as go
import plotly.io as pio
from django.conf import settings

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
WIDTH = 1200  # the height is the figure's own (charts.theme.HEIGHT)

_lock = threading.Lock()
_started = False


class ExportUnavailable(RuntimeError):
    pass


def _ensure_browser() -> None:
    global _started
    if _started:
        return
    path = getattr(settings, "CHROMIUM_PATH", None) or os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise ExportUnavailable(f"image export needs Chromium at {path} (set CHROMIUM_PATH or install chromium)")
    os.environ.setdefault("BROWSER_PATH", path)
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    _started = True


def figure_bytes(fig: go.Figure, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    with _lock:  # one browser, one export at a time
        _ensure_browser()
        return pio.to_image(fig, format=fmt, width=WIDTH, scale=1 if fmt != "png" else 2)
