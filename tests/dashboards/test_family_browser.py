"""The family tree on a model card in a real headless Chromium, against the live server on the
real data (`served` and `browser_page` in tests/dashboards/conftest.py: no second bootstrap)."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.browser, pytest.mark.postgres]


def test_the_family_of_llama_3_1_8b_renders_on_its_card_with_the_nodes_the_api_serves(served, browser_page):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content-Security-Policy" in msg.text else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url
            else None)
    body = page.request.get(f"{served}/api/families/meta-llama/Llama-3.1-8B").json()
    assert body["root"] == "meta-llama/Llama-3.1-8B" and len(body["nodes"]) > 1

    page.goto(f"{served}/models/meta-llama/Llama-3.1-8B")
    page.wait_for_selector("#chart-family .main-svg")
    drawn = page.evaluate("() => document.getElementById('chart-family').data[0].ids.length")
    assert drawn == len(body["nodes"])
    assert page.locator("#family").get_attribute("data-nodes") == str(len(body["nodes"]))
    assert page.locator("#chart-family g.slice").count() > 1  # plotly drew the sunburst's slices
    # Interactive: the button recolours the slices by region.
    before = page.evaluate("() => document.getElementById('chart-family').data[0].marker.colors.slice()")
    page.locator("#chart-family .updatemenu-button").nth(1).click()
    page.wait_for_function("(b) => JSON.stringify(document.getElementById('chart-family').data[0].marker.colors)"
                           " !== JSON.stringify(b)", arg=before)
    assert errors == []  # no script error and no Content-Security-Policy refusal

    page.goto(f"{served}/families/meta-llama/Llama-3.1-8B")
    page.wait_for_selector("#chart-family-relations .main-svg")
    assert page.locator("#family-top tr").count() > 1
