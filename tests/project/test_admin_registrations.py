"""The Django admin covers tags, scans and Zooniverse links; a link can be edited and removed."""

import pytest
from django.urls import reverse

from anomalies.models import Scan
from taxonomy.models import Tag
from tests.factories import UserFactory, make_workflow_with_subjects
from zooniverse import sync
from zooniverse.models import ZooniverseLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "taxonomy_tag",
        "taxonomy_taglink",
        "taxonomy_curationevent",
        "taxonomy_description",
        "taxonomy_derivationrun",
        "taxonomy_taxonomyversion",
        "anomalies_scan",
        "anomalies_anomalyentry",
        "zooniverse_zooniverselink",
        "zooniverse_zooniversesubject",
        "zooniverse_zooniverseworkflow",
    ],
)
def test_changelists_open(admin_client, model):
    assert admin_client.get(reverse(f"admin:{model}_changelist")).status_code == 200


def test_a_tag_and_a_scan_open_in_the_admin(admin_client):
    from tests.factories import make_scan

    tag = Tag.objects.create(name="bent", status=Tag.Status.APPROVED)
    assert b"bent" in admin_client.get(reverse("admin:taxonomy_tag_change", args=[tag.pk])).content
    scan = make_scan("/data/mosaic-a.fits")
    page = admin_client.get(reverse("admin:anomalies_scan_change", args=[scan.pk]))
    assert page.status_code == 200 and b"mosaic-a.fits" in page.content
    assert b"Scan tiles" in page.content  # the tiles are shown with the scan
    assert Scan.objects.count() == 1


def test_zooniverse_link_edited_then_removed(admin_client):
    workflow, _ = make_workflow_with_subjects(n=1, name="Linked")
    link = sync.link_create(workflow=workflow, project_id=1, zooniverse_workflow_id=2)
    url = reverse("admin:zooniverse_zooniverselink_change", args=[link.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = {
        "workflow": workflow.pk,
        "endpoint": link.endpoint,
        "project_id": 11,
        "zooniverse_workflow_id": 22,
        "subject_set_id": "",
        "pull_every_minutes": 5,
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    link.refresh_from_db()
    assert (link.project_id, link.zooniverse_workflow_id, link.pull_every_minutes) == (11, 22, 5)
    response = admin_client.post(reverse("admin:zooniverse_zooniverselink_delete", args=[link.pk]), {"post": "yes"})
    assert response.status_code == 302 and not ZooniverseLink.objects.exists()
