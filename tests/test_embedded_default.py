"""The embedded default (no DATABASE_URL, no REDIS_URL: SQLite, tasks in-process) serves the same
numbers as PostgreSQL.

A separate process, with the server variables removed from its environment, migrates and
bootstraps the real shared data into its own SQLite file and reads every metric endpoint and the
main pages through Django's test client. The same URLs are then read here, from the test
PostgreSQL database bootstrapped from the same files: rows, as-of dates and sources must agree.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

METRIC_URLS = [
    "/api/metrics/cumulative-downloads-by-region",
    "/api/metrics/cumulative-downloads-by-region?scope=all&start=2024-10-01&end=2024-12-31",
    "/api/metrics/cumulative-downloads-by-region?region=china&region=us",
    "/api/metrics/download-share-by-org?top=5",
    "/api/metrics/download-share-by-org?scope=all&pipeline_tag=text-generation",
    "/api/metrics/derivatives-by-base",
    "/api/metrics/derivatives-by-base?scope=all&by=organization&depth=tree",
    "/api/metrics/derivatives-by-base?by=base",
    "/api/metrics/finetunes-by-origin",
    "/api/metrics/finetunes-by-origin?scope=all&by=organization&top=5&region=china&region=us",
    "/api/metrics/relative-adoption",
    "/api/metrics/relative-adoption?size_class=1-5B",
    "/api/metrics/releases-by-region",
    "/api/metrics/releases-by-region?region=eu&start=2024-01-01",
    "/api/metrics/licence-mix",
    "/api/metrics/licence-mix?scope=all",
    "/api/metrics/open-closed-gap",
    "/api/metrics/open-closed-gap?source=lmarena",
]
PAGE_URLS = ["/", "/api/stats", "/methodology", "/status/", "/dashboards/cumulative-downloads-by-region",
             "/dashboards/derivatives-by-base", "/dashboards/finetunes-by-origin", "/dashboards/licence-mix",
             "/dashboards/open-closed-gap",
             "/orgs/Qwen", "/models/Qwen/Qwen2.5-7B-Instruct", "/data-quality"]
# JSON beyond the metrics that carries numbers: the data-quality ledger and a model's RAM.
LEDGER_URLS = ["/api/data-quality?limit=5000", "/api/data-quality?kind=implausible-jump",
               "/api/models/Qwen/Qwen2.5-7B-Instruct", "/api/models/Qwen/Qwen2.5-14B"]

READER = textwrap.dedent("""
    import json, sys
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    client, out = Client(), {}
    for url in json.loads(sys.argv[1]):
        response = client.get(url)
        body = response.json() if response.get("Content-Type", "").startswith("application/json") else None
        out[url] = {"status": response.status_code, "json": body}
    with open(sys.argv[2], "w") as handle:
        json.dump(out, handle)
""")


@pytest.fixture(scope="module")
def embedded(shared_data, tmp_path_factory):
    """What the embedded default serves for METRIC_URLS and PAGE_URLS, bootstrapped from the real data."""
    home = tmp_path_factory.mktemp("embedded-home")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    env.update(OBSERVATORY_HOME=str(home), DJANGO_SETTINGS_MODULE="observatory.settings")

    def manage(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    manage("migrate", "--noinput")
    manage("bootstrap", "--data-dir", str(shared_data), "--no-progress")
    reader = home / "reader.py"
    reader.write_text(READER)
    out = home / "served.json"
    urls = METRIC_URLS + PAGE_URLS + LEDGER_URLS
    done = subprocess.run([sys.executable, "-c",
                           "import django, runpy, sys; django.setup(); "
                           "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                           str(reader), json.dumps(urls), str(out)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (home / "observatory.sqlite3").exists()  # it really ran on its own SQLite file
    return json.loads(out.read_text())


def _same(a, b, path: str = "") -> None:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a == b, path
        elif not (math.isnan(a) and math.isnan(b)):
            assert a == pytest.approx(b, rel=1e-9, abs=1e-9), path
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))}"
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: {len(a)} rows embedded, {len(b)} on PostgreSQL"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.parametrize("url", METRIC_URLS)
def test_the_embedded_default_serves_the_same_metric_rows_as_postgresql(embedded, loaded_db, client, url):
    served = embedded[url]
    assert served["status"] == 200, served
    expected = client.get(url).json()
    assert expected["rows"], "an empty metric would prove nothing"
    _same(served["json"], expected, url)


def test_the_embedded_default_dates_every_metric_inside_the_data(embedded):
    # An as-of date outside the data's years is a misread date (a year taken as days since 1970).
    for url in METRIC_URLS:
        as_of = embedded[url]["json"]["as_of"]
        assert as_of and "2020-01-01" <= as_of <= "2027-01-01", (url, as_of)


@pytest.mark.parametrize("url", LEDGER_URLS)
def test_the_embedded_default_serves_the_same_ledger_and_model_numbers_as_postgresql(embedded, loaded_db, client, url):
    served = embedded[url]
    assert served["status"] == 200, served
    expected = client.get(url).json()
    for body in (served["json"], expected):
        body.pop("data_version", None)  # each database's own run ids
    assert expected.get("issues") or expected.get("relative_adoption", {}).get("ram_v2"), "nothing to compare"
    _same(served["json"], expected, url)


@pytest.mark.parametrize("url", PAGE_URLS)
def test_the_embedded_default_renders_the_pages(embedded, url):
    assert embedded[url]["status"] == 200, url
