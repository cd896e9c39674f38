"""Image export with the real Chromium and kaleido (observatory.exports.images), on a made-up
figure: no web server, no database. The browser tier (`browser` marker): it needs Debian's
Chromium (`make chromium`). Small on purpose, since `make mutation` runs it once per mutant.

Expected sizes come from the export's contract written out by hand: 1200 layout pixels wide, the
figure's own height, PNG at twice the pixels, SVG and PDF at scale 1 (a PDF page is in points,
0.75 of a CSS pixel). The chromium launches are counted by a wrapper script that logs its pid and
then becomes the real browser.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zlib

import kaleido
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from observatory.exports import images

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
HEIGHT = 300


def figure() -> go.Figure:
    # The layout's own width (500) must lose to the export's 1200; its height is kept.
    return go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2]), layout={"width": 500, "height": HEIGHT})


@pytest.fixture
def fresh_process(monkeypatch):
    """No export browser running, before and after, and the browser found as a process that has
    set nothing would find it (BROWSER_PATH and CHROMIUM_PATH unset)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"the browser tier needs Chromium at {CHROMIUM} (make chromium)")
    images.stop_browser()
    kaleido.stop_sync_server(silence_warnings=True)
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    yield
    images.stop_browser()
    kaleido.stop_sync_server(silence_warnings=True)


@pytest.fixture
def counted_chromium(fresh_process, tmp_path, monkeypatch):
    """CHROMIUM_PATH set to a wrapper that appends its pid to a log, then execs the real browser."""
    log = tmp_path / "launches.log"
    wrapper = tmp_path / "chromium-counted"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{log}"\nexec {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("CHROMIUM_PATH", str(wrapper))
    return wrapper, log


def launches(log) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def png_size_and_rows(data: bytes) -> tuple[int, int, int]:
    """(width, height, rows of pixel data) read off the PNG's own chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, *_ = header
    channels = {2: 3, 6: 4}[colour]
    row_bytes = 1 + width * channels * depth // 8  # a filter byte, then the pixels
    raw = zlib.decompress(idat)
    assert len(raw) % row_bytes == 0
    return width, height, len(raw) // row_bytes


def test_it_renders_png_svg_and_pdf_at_1200_wide_and_the_figures_height(fresh_process):
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        png = images.figure_bytes(figure(), "png")
        svg = images.figure_bytes(figure(), "svg")
        pdf = images.figure_bytes(figure(), "pdf")
    # PNG at scale 2: 2400 x 600 pixels, and as many rows of pixel data as that.
    assert png_size_and_rows(png) == (2400, 2 * HEIGHT, 2 * HEIGHT)
    # SVG at scale 1: 1200 x 300 user units drawn 1200 x 300 pixels.
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("1200", "300", "0 0 1200 300")
    # PDF at scale 1: a 900 x 225 point page.
    assert pdf.startswith(b"%PDF-1.")
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None and [float(v) for v in box.groups()] == pytest.approx([900, 225], abs=0.5)
    # plotly's "kopts are ignored" warning against a running server is the one silenced here...
    assert [str(w.message) for w in shown] == []
    # ...and plotly does raise it on this figure, so the line above can fail.
    with pytest.warns(UserWarning, match="^The kopts argument is ignored if using a server"):
        pio.to_image(figure(), format="svg")
    # Chromium was found where a process that set nothing looks, and told to kaleido.
    assert os.environ["BROWSER_PATH"] == CHROMIUM


def test_it_refuses_an_unknown_format_without_starting_the_browser(fresh_process):
    with pytest.raises(ValueError, match=r"^format must be one of png, svg, pdf$"):
        images.figure_bytes(figure(), "jpeg")
    assert images._started is False and not kaleido._global_server.is_running()


def test_it_starts_one_browser_at_chromium_path_for_every_export_until_stop_browser_ends_it(counted_chromium):
    wrapper, log = counted_chromium
    assert images.server_export_available()
    for fmt in ("svg", "png", "svg"):
        images.figure_bytes(figure(), fmt)
    (first,) = launches(log)  # one browser for the three exports
    assert alive(first) and os.environ["BROWSER_PATH"] == str(wrapper)
    assert images._started is True and kaleido._global_server.is_running()
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        images.stop_browser()
    assert not alive(first)
    assert images._started is False and not kaleido._global_server.is_running()
    assert shown == []
    # The next export starts a persistent server again (not a one-off browser per call).
    assert png_size_and_rows(images.figure_bytes(figure(), "png"))[:2] == (2400, 2 * HEIGHT)
    assert len(launches(log)) == 2 and alive(launches(log)[1])
    assert images._started is True and kaleido._global_server.is_running()


def test_it_shares_kaleidos_server_with_other_code_of_the_process_without_a_warning(fresh_process):
    kaleido.start_sync_server(silence_warnings=True)  # started by other code
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        svg = images.figure_bytes(figure(), "svg")
    assert ET.fromstring(svg).get("width") == "1200"
    assert [str(w.message) for w in shown] == []
    assert images._started is True
    kaleido.stop_sync_server()  # closed by other code, as kaleido's own atexit hook does
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        images.stop_browser()
    assert [str(w.message) for w in shown] == []
    assert images._started is False
    # Not stuck believing it runs: the next export starts a server again.
    images.figure_bytes(figure(), "svg")
    assert kaleido._global_server.is_running()


def test_it_says_where_it_looked_when_chromium_path_names_no_file(fresh_process, tmp_path, monkeypatch):
    missing = tmp_path / "no-chromium-here"
    monkeypatch.setenv("CHROMIUM_PATH", str(missing))
    with pytest.raises(images.ExportUnavailable, match=f"^image export needs Chromium at {re.escape(str(missing))} "):
        images.figure_bytes(figure(), "png")
    assert images._started is False and not kaleido._global_server.is_running()
