"""schemathesis against the project's OpenAPI document at /api/schema, the submission operations:
over 1,000 generated cases (valid and invalid bodies, ids, paging), authenticated as a lab, and not
one server error; every answer matches the status codes, content type and schema it declares."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from tests.labs.conftest import SMOLLM2_ID

EXAMPLES_PER_OPERATION = 200
CALLS: dict[str, int] = {}
STATUSES: dict[int, int] = {}


# Loaded over WSGI from the running project (the schema view touches no database).
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application()).include(path_regex="^/api/submissions")


@pytest.fixture
def generous_limits(settings, smollm2_registered, replay_hub):
    # The generator must reach the handlers, not the rate limiter; ids it makes up are asked of the
    # replay Hub (real HTTP), SmolLM2 pins locally.
    settings.LABS_API_REQUESTS_PER_MINUTE = 1_000_000
    settings.LABS_SUBMISSIONS_PER_MINUTE = 1_000_000
    settings.LABS_SUBMISSIONS_PER_DAY = 1_000_000
    settings.LABS_MAX_ACTIVE_RUNS = 1_000_000


@pytest.fixture
def keep_test_connection():
    """Django's WSGI handler closes the DB connection after each request; the test client avoids that
    by disconnecting the handler, and so must we, or the test's transaction would be closed under it."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_it_never_answers_with_a_server_error(case, tokens, make_submission, labs, generous_limits,
                                               keep_test_connection):
    if not CALLS:
        # Something real to find, cancel and publish: the lab's own submission and another lab's.
        make_submission(labs["a"], hub_id=SMOLLM2_ID, status="running", progress=0.3)
        make_submission(labs["b"], hub_id="acme/theirs")
    response = case.call(headers={"Authorization": f"Bearer {tokens['a']}"})
    CALLS[case.operation.label] = CALLS.get(case.operation.label, 0) + 1
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
    case.validate_response(response, checks=[
        schemathesis.checks.not_a_server_error,
        schemathesis.checks.status_code_conformance,
        schemathesis.checks.content_type_conformance,
        schemathesis.checks.response_schema_conformance,
    ])


def test_it_generated_over_a_thousand_cases_across_every_operation():
    assert len(CALLS) == 5, CALLS
    assert sum(CALLS.values()) >= 1000, CALLS
    print(f"schemathesis: {sum(CALLS.values())} cases {CALLS}; statuses {dict(sorted(STATUSES.items()))}")
    assert STATUSES.get(201) and STATUSES.get(400) and STATUSES.get(200)  # it reached the handlers, both ways
