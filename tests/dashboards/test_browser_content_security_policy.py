"""Under the Content-Security-Policy, in a real Chromium: every chart still draws, nothing is
refused, and another site may frame an /embed/ page but not a dashboard."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from observatory.dashboards.registry import METRICS

# `served` and `browser_page` (tests/dashboards/conftest.py): the same server and bootstrap as test_browser.
pytestmark = [pytest.mark.django_db, pytest.mark.browser, pytest.mark.postgres]

# Recorded before any page script runs: what the policy refused, if anything.
WATCH = """window.__refused = [];
document.addEventListener('securitypolicyviolation',
  e => window.__refused.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));"""


@pytest.fixture
def other_site(served):
    """A page on another origin that frames an embed and a dashboard of the served site."""
    body = (f'<iframe id="embed" src="{served}/embed/cumulative-downloads-by-region" width="800" height="500"></iframe>'
            f'<iframe id="page" src="{served}/dashboards/cumulative-downloads-by-region"></iframe>').encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"  # 127.0.0.1 vs the live server's localhost: cross-origin
    server.shutdown()


def test_it_draws_every_chart_with_nothing_refused(served, browser_page):
    page = browser_page
    page.add_init_script(WATCH)
    errors, console = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    checked = []
    for path, chart in [("/", "#chart-cumulative-downloads"), *((f"/dashboards/{n}", "#chart") for n in METRICS),
                        ("/embed/open-closed-gap", "#chart")]:
        page.goto(served + path)
        page.wait_for_selector(f"{chart} .main-svg")
        # The modebar and hover layer add their styles now. Forced: on a chart of several panels the
        # svg's centre may fall between them, where plotly's container takes the pointer.
        page.hover(f"{chart} .main-svg", force=True)
        assert page.evaluate("() => window.__refused") == [], path
        checked.append(path)
    assert errors == [] and console == [], (errors, console)
    assert len(checked) == len(METRICS) + 2


def test_it_lets_another_site_frame_an_embed_but_not_a_dashboard(served, browser_page, other_site):
    assert "localhost" in served  # and the other site is 127.0.0.1: another origin
    page = browser_page
    page.goto(other_site)
    page.frame_locator("#embed").locator("#chart .main-svg").first.wait_for(timeout=60_000)
    page.wait_for_load_state("load")
    refused = page.locator("#page").element_handle().content_frame()
    # Chromium puts its error page in a frame the response refused (frame-ancestors, X-Frame-Options).
    assert refused.url.startswith("chrome-error://"), refused.url
