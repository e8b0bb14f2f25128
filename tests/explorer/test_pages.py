"""The data browser's pages: who may open them and what the cutout page shows."""

import pytest
from django.urls import reverse

from tests.factories import astronomer

pytestmark = pytest.mark.django_db


def test_cutout_page_shows_votes_descriptions_tags_scores_and_explain_choices(client, browsable):
    workflow, c = browsable
    client.force_login(astronomer("reader"))
    html = client.get(reverse("cutout-page", args=[c[1].pk])).content.decode()
    assert c[1].name in html
    assert "two lobes, far apart" in html  # a description
    assert "FR II: brightest at the ends of the lobes" in html and "0.67 agreement over 3 votes" in html
    assert "fr-morphology v1" in html and "FRI 0.450" in html  # scores
    assert 'name="task"' in html and "fr-morphology (no active version)" in html
    tagged = client.get(reverse("cutout-page", args=[c[3].pk])).content.decode()
    assert "bent" in tagged and "Not scored by any classifier." in tagged


def test_pages_need_an_astronomer(client, browsable):
    _, c = browsable
    assert client.get(reverse("browse")).status_code == 302  # to sign in
    client.force_login(astronomer("reader"))
    assert client.get(reverse("cutout-page", args=[99999])).status_code == 404
    page = client.get(reverse("browse"))
    assert page.status_code == 200 and b"fr-morphology" in page.content
