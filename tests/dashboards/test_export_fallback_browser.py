"""A click on "Download PNG" saves a valid PNG in headless Chromium, with the server's Chromium
(kaleido) and without it (CHROMIUM_PATH pointing at nothing, as on a host where `make run` could
not install it): the page then knows, says so, and plotly.js draws the image in the browser."""

import struct
import zlib

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.browser, pytest.mark.postgres]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel for each PNG colour type (PNG spec, 11.2.2).
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decoded_png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG whose chunks all pass their CRC and whose image data inflates to
    exactly the scanlines IHDR promises (non-interlaced); AssertionError otherwise."""
    assert data.startswith(PNG_SIGNATURE), data[:16]
    pos, chunks = len(PNG_SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert interlace == 0
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    row_bytes = 1 + (width * CHANNELS[colour] * depth + 7) // 8  # a filter byte, then the samples
    assert len(pixels) == height * row_bytes
    return width, height


def _download_png(page, url: str, tmp_path, name: str) -> bytes:
    page.goto(url)
    page.wait_for_selector("#chart .main-svg")
    with page.expect_download(timeout=90_000) as info:
        page.click("text=Download PNG")
    path = tmp_path / name
    info.value.save_as(path)
    return path.read_bytes()


def test_the_png_button_saves_a_png_with_the_servers_chromium(served, browser_page, tmp_path):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    data = _download_png(page, f"{served}/dashboards/cumulative-downloads-by-region", tmp_path, "server.png")
    assert page.get_attribute("#exports", "data-server-export") == "yes"
    assert page.locator("#export-note").count() == 0
    width, height = decoded_png_size(data)
    assert width == 2 * 1200 and height > 0  # the server's export: WIDTH at scale 2
    assert errors == []


def test_without_chromium_the_png_button_draws_the_png_in_the_browser(served, browser_page, tmp_path):
    from tests.web_server_process import WebServer

    # The same database and data as `served`, another process that finds no Chromium.
    server = WebServer("runserver", tmp_path / "no-chromium.log", env={"CHROMIUM_PATH": str(tmp_path / "no-chromium")})
    try:
        url = f"http://localhost:{server.port}/dashboards/cumulative-downloads-by-region?region=china"
        status, body = server.get("/charts/cumulative-downloads-by-region.png?region=china")
        assert status == 503 and b"needs Chromium" in body  # what the link alone would answer
        page = browser_page
        errors, image_requests = [], []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: image_requests.append(r.url) if ".png" in r.url else None)
        data = _download_png(page, url, tmp_path, "browser.png")
        assert page.get_attribute("#exports", "data-server-export") == "no"
        assert "your browser draws" in page.inner_text("#export-note")
        width, height = decoded_png_size(data)
        assert width == 2 * 1200 and height > 0
        assert image_requests == []  # drawn here, not fetched from the server
        with page.expect_download(timeout=90_000) as info:
            page.click("text=Download PDF")
        assert info.value.suggested_filename.endswith(".svg")
        assert errors == []
    finally:
        server.stop()
