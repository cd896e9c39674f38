"""In headless Chromium: a lab member logs in, submits SmolLM2-135M-Instruct (its locally registered
GGUF) with the form, watches the status page advance without a reload while a real `gpu` Celery
worker runs the probe, publishes it, and sees the public profile."""

import re

import pytest
from playwright.sync_api import expect

from observatory.labs.models import Submission
from tests.labs.conftest import SMOLLM2_ID

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.probes,
              pytest.mark.slow]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GPU_WORKER_ARGS = ["--max-tasks-per-child", "1", "--prefetch-multiplier", "1"]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()
    _close_live_server_leftovers()


def _close_live_server_leftovers():
    """The live server's request threads can leave an idle connection to the test database behind
    (seen after Chromium's keep-alive requests), which then blocks dropping the test database at the
    end of the session. Close the idle ones this test's server left; the server reconnects if needed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND state = 'idle'")


def test_it_lets_a_lab_member_submit_watch_and_publish_in_a_browser(
        live_server, celery_worker_factory, broker_mode, smollm2_registered, labs, browser_page):
    worker = celery_worker_factory(queues="gpu", env={"PROBE_LOCAL_SOURCES": f"{SMOLLM2_ID}={smollm2_registered}"},
                                   extra_args=GPU_WORKER_ARGS)
    page = browser_page
    page.goto(f"{live_server.url}/labs/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pass-123")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/labs/")

    page.goto(f"{live_server.url}/labs/submit/")
    page.fill("#id_hub_id", SMOLLM2_ID)
    page.uncheck("input[name=probes][value=tooling]")
    page.check("input[name=probes][value=benchmark]")
    page.fill("#id_benchmark_limit", "1")
    page.check("input[name=visibility][value=private]")
    page.click("#submit-form button[type=submit]")
    page.wait_for_url("**/labs/submissions/*/")
    submission = Submission.objects.get()
    assert submission.pin_kind == "local-sha256" and submission.submitted_by == labs["alice"]

    # Mark this page load: if the page reloaded, the marker would be gone.
    page.evaluate("window.__sameLoad = true")
    # Playwright's expect polls without eval; wait_for_function's string predicates need eval,
    # which the pages' Content-Security-Policy refuses (script-src 'self').
    expect(page.locator("#overall-status")).to_have_text("running", timeout=120_000)
    expect(page.locator("#overall-progress")).not_to_have_text("0", timeout=120_000)
    seen = [int(page.text_content("#overall-progress"))]
    expect(page.locator("#overall-status")).to_have_text(re.compile("^(succeeded|failed|cancelled)$"),
                                                         timeout=300_000)
    status = page.text_content("#overall-status")
    assert status == "succeeded", (page.text_content("#runs"), worker.logs())
    seen.append(int(page.text_content("#overall-progress")))
    assert seen[0] > 0 and seen[-1] == 100, seen  # it advanced, live
    assert page.evaluate("window.__sameLoad === true")
    assert page.text_content("tr[data-run] .status") == "succeeded"

    page.click("#publish-button")
    page.wait_for_selector("#profile-link")
    page.click("#profile-link")
    page.wait_for_url(f"**/profiles/{submission.pk}/")
    body = page.text_content("main")
    assert SMOLLM2_ID in body and "benchmark — succeeded" in body and "item_set_hash" in body
    assert "Lab A" in body and submission.resolved_revision in body

    # And an outsider in a fresh browser context sees the published profile too, without logging in.
    other = page.context.browser.new_context().new_page()
    other.goto(f"{live_server.url}/profiles/{submission.pk}/")
    assert SMOLLM2_ID in other.text_content("main")
