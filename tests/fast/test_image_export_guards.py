"""Image export's guards (observatory.exports.images) that need no browser: the bounded render
slots, the format check, and the clear error when Chromium is missing. Rendering itself is
tested with the real Chromium in tests/dashboards (the browser tier)."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from observatory.exports import images

MISSING = "/nonexistent/chromium-for-the-fast-tier"


@pytest.fixture(autouse=True)
def _no_browser_started(monkeypatch):
    # Whatever an earlier test of the session did, these run as a process that has not started one.
    monkeypatch.setattr(images, "_started", False)
    monkeypatch.setattr(images, "_in_flight", 0)


def test_it_allows_the_configured_number_of_renders_at_once(settings):
    settings.EXPORT_MAX_CONCURRENT = 2
    with images.render_slot(), images.render_slot():
        assert images._in_flight == 2
        with pytest.raises(images.ExportBusy, match=r"^all 2 image renders of this server are busy; try again"):
            with images.render_slot():
                pass
        assert images._in_flight == 2
    assert images._in_flight == 0
    with images.render_slot():
        assert images._in_flight == 1


def test_it_frees_the_slot_when_the_render_fails(settings):
    settings.EXPORT_MAX_CONCURRENT = 1
    with pytest.raises(RuntimeError), images.render_slot():
        raise RuntimeError("render failed")
    assert images._in_flight == 0
    with images.render_slot():
        pass


def test_it_defaults_to_two_slots(settings):
    del settings.EXPORT_MAX_CONCURRENT
    with images.render_slot(), images.render_slot(), pytest.raises(images.ExportBusy, match="all 2 "):
        with images.render_slot():
            pass
    assert images.ExportBusy.retry_after == 5


def test_it_refuses_an_unknown_format_before_taking_a_slot():
    with pytest.raises(ValueError, match=r"^format must be one of png, svg, pdf$"):
        images.figure_bytes(go.Figure(), "gif")
    assert images.FORMATS == {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def test_it_answers_busy_without_touching_the_browser_when_every_slot_is_taken(settings):
    settings.EXPORT_MAX_CONCURRENT = 1
    settings.CHROMIUM_PATH = MISSING  # were the browser reached, this would raise ExportUnavailable
    with images.render_slot(), pytest.raises(images.ExportBusy):
        images.figure_bytes(go.Figure(), "png")


def test_it_says_where_it_looked_for_chromium_and_frees_the_slot(settings, monkeypatch):
    settings.CHROMIUM_PATH = MISSING
    monkeypatch.setenv("CHROMIUM_PATH", "/elsewhere")
    with pytest.raises(images.ExportUnavailable,
                       match=rf"^image export needs Chromium at {MISSING} \(set CHROMIUM_PATH or install chromium\)$"):
        images.figure_bytes(go.Figure(), "svg")
    assert images._in_flight == 0 and images._started is False
    settings.CHROMIUM_PATH = None
    monkeypatch.setenv("CHROMIUM_PATH", MISSING + "-env")
    with pytest.raises(images.ExportUnavailable, match=f"at {MISSING}-env "):
        images.figure_bytes(go.Figure(), "pdf")


def test_it_does_nothing_when_asked_to_stop_a_browser_it_never_started():
    images.stop_browser()
    assert images._started is False
