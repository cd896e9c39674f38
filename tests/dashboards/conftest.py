import pytest


@pytest.fixture(autouse=True, scope="session")
def _close_export_browser(django_db_setup):  # torn down before the test database is dropped
    """Image exports keep one Chromium running, loaders an ADBC connection per thread: close both."""
    yield
    from observatory.analytics.frames import close_arrow_connections
    from observatory.exports.images import stop_browser

    stop_browser()
    close_arrow_connections()  # or the test database cannot be dropped


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="package")
def served(loaded_db, django_db_blocker, tmp_path_factory):
    """One real web server (`manage.py runserver`, another process) on the session's bootstrap of
    the real data, for every browser test of this package: the data is loaded once (loaded_db),
    not again per test after a flush. The tests using it are marked django_db (not transactional),
    so they run while that bootstrap is committed and unflushed, and they write nothing themselves.
    The URL says localhost: another site on 127.0.0.1 is then another origin."""
    from django.core.management import call_command

    from observatory.catalog.models import DownloadSnapshot, HubModel
    from tests.web_server_process import WebServer

    with django_db_blocker.unblock():
        # pytest-django runs these (non-transactional) tests before any flush; should an order
        # change bring a flushed database here, load the data again, committed, for the server.
        if HubModel.objects.count() < 4000 or not DownloadSnapshot.objects.filter(source="daily-series").exists():
            call_command("bootstrap", "--data-dir", str(loaded_db), "--no-progress", verbosity=0)
    server = WebServer("runserver", tmp_path_factory.mktemp("browser-server") / "runserver.log")
    try:
        yield f"http://localhost:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()
