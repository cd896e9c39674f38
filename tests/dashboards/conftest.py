import pytest


@pytest.fixture(autouse=True, scope="session")
def _close_export_browser():
    """Image exports keep one Chromium running; close it before the interpreter exits."""
    yield
    from observatory.exports.images import stop_browser

    stop_browser()
