"""The schemathesis loop both API suites run (the read API's and the submission API's): each drawn
case called over WSGI, counted, and checked against what the OpenAPI document declares."""

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def check_cases(strategy, *, examples: int, calls: Counter, statuses: Counter, headers: dict | None = None) -> None:
    """Up to `examples` cases from `strategy`, derandomised so every run draws the same ones; a
    failing check raises with the case that broke it. `calls` and `statuses` count what was sent."""

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=headers)
        calls[case.operation.label] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    check()
