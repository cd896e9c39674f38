"""Hostile model names and card strings render escaped; CSV cells cannot become formulas."""

import csv
import datetime as dt
import io

import pytest

from observatory.catalog.models import DownloadSnapshot, HubModel, LeaderboardEntry, LineageEdge, Organization
from observatory.exports.tables import neutralise, rows_to_csv

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'


@pytest.fixture
def hostile(db):
    org = Organization.objects.create(namespace="evil-org", display_name=SCRIPT, region="other")
    base = HubModel.objects.create(hub_id="evil-org/base", organization=org, licence_raw=IMG, licence_id="llama3",
                                   licence_class="restricted", tracked=True, size_class="7-9B",
                                   release_date=dt.date(2024, 8, 1), created_at=dt.datetime(2024, 8, 1, tzinfo=dt.UTC),
                                   pipeline_tag="text-generation", downloads_all_time=10, card_data={"x": SCRIPT})
    child = HubModel.objects.create(hub_id="evil-org/child", organization=org, licence_id=SCRIPT,
                                    licence_class="permissive", created_at=dt.datetime(2024, 9, 1, tzinfo=dt.UTC))
    LineageEdge.objects.create(child=child, parent=base, parent_hub_id=base.hub_id, relation="finetune", source="test")
    LineageEdge.objects.create(child=child, parent=None, parent_hub_id=f"x/{SCRIPT}", relation="merge", source="test")
    for day, n in ((1, 100), (2, 150)):
        DownloadSnapshot.objects.create(model=base, date=dt.date(2024, 8, day), downloads_all_time=n, source="daily-series")
    LeaderboardEntry.objects.create(source="epoch-eci", model_name=f"=HYPERLINK(\"http://x\"){SCRIPT}", benchmark="eci",
                                    score=200.0, open_weights=False, release_date=dt.date(2024, 1, 1), hub_model=base)
    return base, child


def test_it_escapes_hostile_strings_on_the_model_card_and_organisation_page(hostile, client):
    for url in ("/models/evil-org/base", "/models/evil-org/child", "/orgs/evil-org"):
        page = client.get(url).content.decode()
        assert SCRIPT not in page and "<img src=x" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/models/evil-org/child").content.decode()


def test_it_escapes_hostile_names_in_charts_and_tables(hostile, client):
    for url in ("/dashboards/open-closed-gap", "/dashboards/licence-mix?scope=all",
                "/dashboards/derivatives-by-base?scope=all&by=base", "/dashboards/download-share-by-org?scope=all",
                "/embed/open-closed-gap"):
        page = client.get(url).content.decode()
        assert SCRIPT not in page and "<img src=x" not in page, url


def test_it_neutralises_formula_cells_in_csv_exports(hostile, client):
    response = client.get("/api/metrics/open-closed-gap?format=csv")
    text = response.content.decode()
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert cells and not any(c.startswith(("=", "+", "@")) for c in cells)
    assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "", 1).isdigit() for c in cells)


@pytest.mark.parametrize("value, expected", [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("-12.5", "-12.5"), ("plain", "plain"), (None, ""), (3, "3"),
])
def test_it_defuses_each_formula_prefix_but_keeps_negative_numbers(value, expected):
    assert neutralise(value) == expected


def test_it_writes_a_csv_whose_header_is_neutralised_too():
    text = rows_to_csv([{"=bad": "=cmd|' /C calc'!A0", "ok": -1}])
    assert text.splitlines()[0] == "'=bad,ok" and "'=cmd" in text
