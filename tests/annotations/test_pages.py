import pytest
from django.urls import reverse

from jobs.models import Job
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def test_home_without_workflows_explains_how_to_load_one(client):
    response = client.get("/")
    assert response.status_code == 200 and b"ingest_demo" in response.content


def test_home_and_classify_redirect_to_the_first_workflow(client):
    workflow, _ = make_workflow_with_subjects(n=2)
    for url in ("/", reverse("classify")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("classify-workflow", args=[workflow.pk])


def test_classify_page_shows_tasks_field_guide_and_count(client):
    workflow, _ = make_workflow_with_subjects(n=2)
    page = client.get(reverse("classify-workflow", args=[workflow.pk])).content.decode()
    assert "Which best describes this radio source?" in page
    assert 'name="T0" value="4"' in page and 'id="text-T1"' in page and 'value="hotspot"' in page
    assert 'id="count">0<' in page
    assert "Field guide" in page and "/media/cutouts/png/" in page  # FRII examples from expert labels
    assert client.get(reverse("classify-workflow", args=[workflow.pk + 100])).status_code == 404


def test_desk_is_for_astronomers_only(client):
    assert client.get(reverse("desk")).status_code == 302  # to the sign-in page
    client.force_login(astronomer())
    assert client.get(reverse("desk")).status_code == 200


def test_the_desk_counts_a_surveys_real_cutouts_not_its_generated_ones(client):
    import re

    from annotations.models import Cutout

    _, cutouts = make_workflow_with_subjects(n=5, survey_name="counted")
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts[:2]]).update(synthetic=True)
    client.force_login(astronomer())
    page = client.get(reverse("desk")).content.decode()
    row = re.search(r'<tr data-survey="counted">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["3"]


def test_job_page_shows_progress_and_errors(client):
    job = Job.objects.create(kind="ingest_images", status="running", done=3, total=10, errors=["<b>x.fits</b>: bad"])
    client.force_login(astronomer())
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert 'value="3"' in page and "&lt;b&gt;x.fits&lt;/b&gt;: bad" in page


def test_job_page_is_for_astronomers_only_as_its_api(client):
    job = Job.objects.create(kind="ingest_images", status="failed", errors=["/srv/private/survey/x.fits: unreadable"])
    url = reverse("job", args=[job.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    client.force_login(UserFactory(username="volunteer"))
    volunteer = client.get(url)
    assert volunteer.status_code == 403 and b"/srv/private" not in volunteer.content
    client.force_login(astronomer())
    assert b"/srv/private/survey/x.fits" in client.get(url).content
