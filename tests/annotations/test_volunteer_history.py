"""What a volunteer keeps: anonymous history joining the account, the tutorial seen, the sky
summary sent with a subject, the tag task's vocabulary, the recent classifications page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Classification, QueueLease, VolunteerProfile
from annotations.roles import Volunteer
from annotations.services import classification_create
from tests.factories import make_workflow_with_subjects, serve, volunteer_key_of

pytestmark = pytest.mark.django_db


def _classify(client, workflow, subject, answer, tags=None):
    serve(client, workflow, subject.pk)
    annotations = [{"task": "T0", "value": answer}]
    if tags is not None:
        annotations.append({"task": "T2", "value": tags})
    return client.post(
        reverse("api-classifications"),
        {"workflow": workflow.pk, "subject": subject.pk, "annotations": annotations},
        format="json",
    )


def test_signing_up_moves_the_anonymous_classifications_to_the_account():
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=5)
    client = APIClient()
    anonymous_key = volunteer_key_of(client)
    for subject, answer in zip(cutouts[:2], [1, 2], strict=True):
        assert _classify(client, workflow, subject, answer).status_code == 201
    serve(client, workflow, cutouts[2].pk)  # served, not answered yet
    someone_else = APIClient()
    volunteer_key_of(someone_else)
    assert _classify(someone_else, workflow, cutouts[3], 0).status_code == 201

    response = client.post(
        reverse("signup"),
        {"username": "lobe-spotter", "password1": "radio lobes 1400 MHz", "password2": "radio lobes 1400 MHz"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("recent-classifications")
    user = User.objects.get(username="lobe-spotter")
    mine = Classification.objects.filter(user=user)
    assert sorted(mine.values_list("subject_id", flat=True)) == [cutouts[0].pk, cutouts[1].pk]
    assert set(mine.values_list("volunteer_key", flat=True)) == {f"user:{user.pk}"}
    assert not Classification.objects.filter(volunteer_key=anonymous_key).exists()
    assert Classification.objects.filter(user__isnull=True).count() == 1  # the other browser's stays
    assert QueueLease.objects.filter(volunteer_key=f"user:{user.pk}").count() == 1  # the open subject too
    # the account answers the subject served before signing up
    assert _classify(client, workflow, cutouts[2], 3).status_code == 201
    page = client.get(reverse("recent-classifications")).content.decode()
    assert page.count("data-classification=") == 3 and "Bent-tail" in page and "FR II" in page


def test_signing_in_keeps_the_account_answer_where_both_classified_a_subject():
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5)
    user = User.objects.create_user("returning", password="radio lobes 1400 MHz")
    classification_create(
        workflow_id=workflow.pk,
        subject_id=cutouts[0].pk,
        volunteer=Volunteer(user_id=user.pk, session_key=""),
        annotations=[{"task": "T0", "value": 1}],
    )
    client = APIClient()
    volunteer_key_of(client)
    assert _classify(client, workflow, cutouts[0], 4).status_code == 201
    assert _classify(client, workflow, cutouts[1], 2).status_code == 201
    response = client.post(reverse("login"), {"username": "returning", "password": "radio lobes 1400 MHz"})
    assert response.status_code == 302
    rows = {c.subject_id: c.annotations[0]["value"] for c in Classification.objects.filter(user=user)}
    assert rows == {cutouts[0].pk: 1, cutouts[1].pk: 2}
    assert Classification.objects.filter(volunteer_key__startswith="session:").count() == 1


def test_sign_up_refuses_bad_input_with_the_reason():
    client = APIClient()
    response = client.post(reverse("signup"), {"username": "x", "password1": "short", "password2": "other"})
    assert response.status_code == 400
    assert b"didn" in response.content or b"match" in response.content
    assert not User.objects.filter(username="x").exists()


def test_tutorial_seen_is_kept_for_signed_in_volunteers_only():
    client = APIClient()
    url = reverse("api-volunteer-tutorial")
    assert client.get(url).json() == {"seen": False}
    assert client.post(url).status_code in (401, 403)
    user = User.objects.create_user("reader", password="radio lobes 1400 MHz")
    client.force_login(user)
    assert client.get(url).json() == {"seen": False}
    assert client.post(url).json() == {"seen": True}
    assert client.post(url).json() == {"seen": True}
    assert VolunteerProfile.objects.get(user=user).tutorial_seen_at is not None
    workflow, _ = make_workflow_with_subjects(n=1)
    page = client.get(reverse("classify-workflow", args=[workflow.pk])).content.decode()
    assert 'data-tutorial-seen="true"' in page


def test_the_subject_carries_its_sky_summary():
    workflow, cutouts = make_workflow_with_subjects(n=1)
    body = APIClient().get(reverse("api-queue-next"), {"workflow": workflow.pk}).json()
    sky = body["subject"]["sky"]
    assert sky["projection"] == "SIN" and not sky["approximate"]
    assert sky["pixel_scale_arcsec"] == pytest.approx(1.8, rel=1e-6)
    assert sky["crval"] == pytest.approx([cutouts[0].ra_deg, 2.0], abs=1e-6)


def test_the_tag_task_offers_the_published_taxonomy_and_accepts_only_it():
    from taxonomy.models import Tag
    from taxonomy.services import taxonomy_publish

    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=5)
    client = APIClient()
    volunteer_key_of(client)
    # before any taxonomy: the workflow's own list
    assert _classify(client, workflow, cutouts[0], 1, tags=["lobe"]).status_code == 201
    Tag.objects.create(name="bent tail", status=Tag.Status.APPROVED)
    Tag.objects.create(name="not yet", status=Tag.Status.CANDIDATE)
    taxonomy_publish()
    page = client.get(reverse("classify-workflow", args=[workflow.pk])).content.decode()
    assert 'value="bent tail"' in page and 'value="lobe"' not in page and 'value="not yet"' not in page
    assert _classify(client, workflow, cutouts[1], 1, tags=["Bent tail"]).status_code == 201
    refused = _classify(client, workflow, cutouts[2], 1, tags=["lobe"])
    assert refused.status_code == 400 and "unknown tag(s) lobe" in refused.json()["detail"]
