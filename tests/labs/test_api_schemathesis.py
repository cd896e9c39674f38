"""schemathesis against the project's OpenAPI document at /api/schema, the submission operations:
over 1,000 generated cases (valid and invalid bodies, ids, paging), authenticated as a lab, and not
one server error; every answer matches the status codes, content type and schema it declares."""

from collections import Counter

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.hypothesis.builder import TestPhase

from tests.labs.conftest import SMOLLM2_ID
from tests.schemathesis_cases import check_cases

EXAMPLES_PER_OPERATION = 200


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




@pytest.mark.django_db
def test_it_never_answers_with_a_server_error_over_a_thousand_cases_across_every_operation(
        tokens, make_submission, labs, generous_limits, keep_test_connection):
    """One test owns its cases and their count, so it passes or fails the same alone, under -k or in
    parallel (no state carried over from another test)."""
    # Something real to find, cancel and publish: the lab's own submission and another lab's.
    make_submission(labs["a"], hub_id=SMOLLM2_ID, status="running", progress=0.3)
    make_submission(labs["b"], hub_id="acme/theirs")
    calls, statuses = Counter(), Counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        # Valid and invalid inputs and the schema's own examples, as schemathesis's pytest plugin draws
        # them, and for the submission itself bodies naming a model that can be submitted (so some succeed).
        cases = st.one_of([operation.as_strategy(mode, phase=phase) for mode in GenerationMode
                           for phase in (TestPhase.EXAMPLES, TestPhase.FUZZING)]
                          + ([operation.as_strategy(body={"hub_id": SMOLLM2_ID})]
                             if operation.label == "POST /api/submissions" else []))

        check_cases(cases, examples=EXAMPLES_PER_OPERATION, calls=calls, statuses=statuses,
                    headers={"Authorization": f"Bearer {tokens['a']}"})
    print(f"schemathesis: {sum(calls.values())} cases {dict(calls)}; statuses {dict(sorted(statuses.items()))}")
    assert len(calls) == 5, calls
    assert sum(calls.values()) >= 1000, calls
    assert statuses[400] and statuses[200]  # it reached the handlers, both ways
    # And the success path, through the schema's own operation (the drawn cases reach it only when
    # no earlier case already submitted the same model version, which depends on the draw).
    post = schema["/api/submissions"]["POST"]
    case = post.Case(body={"hub_id": SMOLLM2_ID, "probes": ["tooling"], "visibility": "private"},
                     media_type="application/json")
    response = case.call(headers={"Authorization": f"Bearer {tokens['a']}"})
    assert response.status_code in (200, 201), response.text
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error,
                                             schemathesis.checks.response_schema_conformance])
