"""schemathesis against the read API's OpenAPI document (every operation but the submission API's,
which tests/labs/test_api_schemathesis.py covers): a bounded number of generated cases per
operation on the real bootstrapped data, not one server error, and every answer as documented."""

from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application

from tests.schemathesis_cases import check_cases

EXAMPLES_PER_OPERATION = 40  # bounded so CI's budget holds; derandomised, so every run is the same

schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application()).exclude(
    path_regex="^/api/submissions")

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]




@pytest.fixture
def generous_limits(settings):
    # The generator must reach the handlers, not the per-client computation limit.
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 1_000_000
    settings.EXPORT_RENDERS_PER_MINUTE = 1_000_000


def test_it_never_answers_the_read_api_with_a_server_error_or_an_undocumented_answer(
        loaded_db, keep_test_connection, generous_limits):
    calls, statuses = Counter(), Counter()
    for result in schema.get_all_operations():
        check_cases(result.ok().as_strategy(), examples=EXAMPLES_PER_OPERATION, calls=calls, statuses=statuses)
    print(f"schemathesis: {sum(calls.values())} cases {dict(calls)}; statuses {dict(sorted(statuses.items()))}")
    assert {"GET /api/metrics/{name}", "GET /api/data-quality", "GET /api/models/{org}/{name}"} <= set(calls)
    assert statuses[200] and statuses[400]  # it reached the handlers, both ways
