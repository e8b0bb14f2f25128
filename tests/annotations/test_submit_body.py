"""The submit's reply, built as a plain dict, is what the classification serializer gives."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from annotations.api.queue_serializers import (
    ClassificationSerializer,
    ClassificationStoredSerializer,
    classification_stored_body,
)
from annotations.models import Classification
from tests.annotations.test_api import submit
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def test_plain_body_matches_the_serializer_field_for_field(settings):
    settings.TIME_ZONE = "Australia/Perth"  # DRF writes times in the current zone: so must the plain body
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=5)
    stored = Classification.objects.create(
        workflow=workflow,
        workflow_version=workflow.versions.first(),
        subject=cutouts[0],
        volunteer_key="v1",
        annotations=[{"task": "T0", "value": 1}],
        metadata={"screen": [390, 844]},
        started_at=datetime(2026, 11, 30, 12, 0, 1, 250000, tzinfo=UTC),
        finished_at=datetime(2026, 11, 30, 12, 0, 9, tzinfo=UTC),
        user_agent="test",
        realism="real",
    )
    assert classification_stored_body(stored) == ClassificationSerializer(stored).data
    stored.started_at = None
    assert classification_stored_body(stored) == ClassificationSerializer(stored).data


def test_the_submit_replies_with_every_documented_field():
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=5)
    reply = submit(APIClient(), workflow, cutouts[0].pk)
    assert reply.status_code == 201
    body = reply.json()
    assert set(body) == set(ClassificationStoredSerializer.Meta.fields)
    assert body["workflow_version"] == workflow.versions.first().label and body["created_at"].endswith("Z")
