"""Every response carries a Content-Security-Policy that allows the site's own files and nothing
else, and the pages hold nothing it would block: no inline script, style or event handler. Only
/embed/ pages may be framed."""

import datetime as dt
from html.parser import HTMLParser

import pytest

from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Organization
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    org = Organization.objects.create(namespace="acme", region="us")
    base = HubModel.objects.create(hub_id="acme/base", organization=org, licence_id="apache-2.0",
                                   licence_class="permissive", tracked=True, size_class="7-9B",
                                   release_date=dt.date(2024, 8, 1), pipeline_tag="text-generation",
                                   created_at=dt.datetime(2024, 8, 1, tzinfo=dt.UTC), downloads_all_time=150)
    child = HubModel.objects.create(hub_id="acme/child", organization=org, licence_id="mit", licence_class="permissive",
                                    created_at=dt.datetime(2024, 9, 1, tzinfo=dt.UTC))
    LineageEdge.objects.create(child=child, parent=base, parent_hub_id=base.hub_id, relation="finetune", source="t")
    for day, n in ((1, 100), (2, 150)):
        DownloadSnapshot.objects.create(model=base, date=dt.date(2024, 8, day), downloads_all_time=n, source="daily-series")


def _pages() -> list[str]:
    return ["/", "/methodology", "/status/", "/queue/", "/models/acme/base", "/models/acme/child", "/orgs/acme",
            "/accounts/login/", *(f"/dashboards/{name}" for name in METRICS)]


class InlineCode(HTMLParser):
    """Collects what a strict policy blocks: executable inline scripts, <style>, style="", on*=."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.scripts_with_src = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.scripts_with_src += 1
            elif attrs.get("type") != "application/json":  # a data block is never executed
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in attrs if name == "style" or name.startswith("on")]


def _inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    return parser


def test_it_sends_a_policy_that_allows_only_the_site_itself(client, catalogue):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy and "*" not in policy  # no other origin, anywhere


@pytest.mark.parametrize("path", _pages())
def test_it_serves_pages_with_no_inline_code_the_policy_would_block(client, catalogue, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert "Content-Security-Policy" in response
    page = _inline_code(response.content.decode())
    assert page.found == [], (path, page.found)
    assert page.scripts_with_src >= 2  # plotly.js and the chart drawing script, both from the site


def test_it_draws_charts_from_data_blocks(client, catalogue):
    html = client.get("/dashboards/licence-mix?scope=all").content.decode()
    assert '<div id="chart" class="plotly-chart" data-figure="chart-figure"></div>' in html
    assert '<script type="application/json" id="chart-figure">{"data":' in html
    assert "Plotly.newPlot" not in html


def test_it_lets_only_embeds_be_framed(client, catalogue):
    embed = client.get("/embed/licence-mix?scope=all")
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed
    assert _inline_code(embed.content.decode()).found == []
    for path in ("/", "/dashboards/licence-mix", "/models/acme/base", "/accounts/login/", "/api/stats"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path


def test_it_serves_the_sites_own_scripts_and_styles_and_nothing_else(client):
    for name, kind in (("site.css", "text/css"), ("embed.css", "text/css"), ("charts.js", "application/javascript"),
                       ("dashboard.js", "application/javascript"), ("submission.js", "application/javascript")):
        response = client.get(f"/assets/{name}")
        assert response.status_code == 200 and response["Content-Type"].startswith(kind), name
    for name in ("../settings.py", "..%2Fsettings.py", "secret_key", "site.css.bak"):
        assert client.get(f"/assets/{name}").status_code == 404, name
