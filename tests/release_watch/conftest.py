import pytest


@pytest.fixture(autouse=True)
def _empty_catalog(request):
    """Each test here starts from an empty catalogue, whatever an earlier test committed (the
    session's `loaded_db` bootstrap): feeds and leaderboards list everything, and the tests count
    exactly. The emptying rolls back with the test."""
    if not ({"db", "client"} & set(request.fixturenames) or request.node.get_closest_marker("django_db")):
        yield
        return
    request.getfixturevalue("db")
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE catalog_hubmodel, catalog_organization, catalog_run, catalog_leaderboardentry "
                           "CASCADE")
        else:
            for table in ("gpu_workers_proberun", "catalog_run", "catalog_downloadsnapshot", "catalog_lineageedge",
                          "catalog_leaderboardentry", "catalog_hubmodel", "catalog_organization"):
                cursor.execute(f"DELETE FROM {table}")
    yield
