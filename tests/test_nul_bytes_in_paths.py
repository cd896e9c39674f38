"""A NUL byte in a URL path is a 404, never a 500 (PostgreSQL refuses NUL in a string parameter)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import require_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def _paths_with_a_nul_in_each_parameter() -> list[str]:
    """Every route with path parameters, once per parameter: a NUL alone, then a NUL after a letter."""
    paths = []
    for route in _patterns(get_resolver()):
        if "^" in route or "(?P" in route or "<" not in route:
            continue  # the admin's regex routes and routes with no parameters
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        for target in names:
            for nul in ("%00", "a%00"):
                path = route
                for name in names:
                    value = nul if name == target else "a"
                    path = re.sub(rf"<(?:\w+:)?{name}>", value, path, count=1)
                paths.append("/" + path)
    return paths


def test_it_covers_the_paths_the_red_team_reported():
    paths = _paths_with_a_nul_in_each_parameter()
    assert {"/models/%00/a", "/models/a/a%00", "/orgs/%00", "/api/models/%00/a"} <= set(paths)


@pytest.mark.parametrize("path", [*_paths_with_a_nul_in_each_parameter(), "/models/%00/x", "/models/a/b%00",
                                  "/orgs/%00", "/%00", "/status/%00"])
def test_it_answers_404_to_a_nul_byte_in_any_path_parameter(client, path):
    require_postgres()
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)


def test_it_answers_a_json_404_on_api_paths(client):
    response = client.get("/api/models/acme/x%00")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "error" in response.json()
