"""Property-based tests generated from the OpenAPI document (schemathesis): whatever the
generated requests, no 500, and every answer matches the document (status, media type, schema).

Bounded: a few examples per operation, derandomized so CI runs are repeatable.
"""

from __future__ import annotations

import json

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import negative_data_rejection, positive_data_acceptance  # noqa: E402

from engine.service import ServiceConfig, create_app  # noqa: E402
from engine.service.rulebooks import load  # noqa: E402

from .conftest import POLICY  # noqa: E402

APP = create_app(ServiceConfig(policy=(str(POLICY),)), load([str(POLICY)], run_check=False))
#: The coverage phase would add hundreds of boundary cases per operation for the case schema;
#: the fuzzing and examples phases alone keep this test to seconds.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx, value) -> bytes:
    """A batch body: each generated case on a line of its own."""
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf-8")


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_document(case):
    # A case can satisfy the schema and still not be evaluable (a person with neither an age
    # nor a date of birth: 422 E429), so schema-valid requests may be refused; every other
    # check applies, the absence of 5xx first.
    # A batch answers 200 and reports each invalid line in its own output line, as `policy
    # batch` does, so an invalid case inside a batch is not a rejected request.
    excluded = [positive_data_acceptance]
    if case.operation.path == "/v1/evaluate/batch":
        excluded.append(negative_data_rejection)
    case.call_and_validate(excluded_checks=excluded)
