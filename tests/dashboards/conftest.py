import pytest


@pytest.fixture(autouse=True, scope="session")
def _close_export_browser(django_db_setup):  # torn down before the test database is dropped
    """Image exports keep one Chromium running, loaders an ADBC connection per thread: close both."""
    yield
    from observatory.analytics.frames import close_arrow_connections
    from observatory.exports.images import stop_browser

    stop_browser()
    close_arrow_connections()  # or the test database cannot be dropped
