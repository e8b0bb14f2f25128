"""Schemathesis over every API operation as anonymous, volunteer and astronomer: no 5xx, no
response that disagrees with the published schema.

The test's transaction is never committed, so jobs the API starts (ingestion, derivation) are
stored and answered with 202 but never sent to a worker: the fuzzing stays quick and in-process.
"""

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory, astronomer

pytest.importorskip("schemathesis")
from tests.fuzzing import fuzz_role, load_schema, seed_objects  # noqa: E402

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

MAX_EXAMPLES = 25
SEED = 20261130


@pytest.fixture
def schema():
    # As Django's test client does: requests must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        known = seed_objects()
        yield load_schema(get_wsgi_application()), known
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def role_headers(role: str) -> dict:
    if role == "anonymous":
        return {}
    user = astronomer("fuzz-astronomer") if role == "astronomer" else UserFactory(username="fuzz-volunteer")
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "astronomer"])
def test_no_server_errors_and_responses_match_the_schema(schema, role):
    schema, known = schema
    report = fuzz_role(schema, headers=role_headers(role), max_examples=MAX_EXAMPLES, seed=SEED, known=known)
    assert report.operations >= 60 and report.cases >= report.operations
    assert report.failures == [], "\n".join(report.failures[:300])
