"""An admin trains a survey's encoder from the novelty page; the gallery then reads its space.

Celery runs eagerly in tests, so the training (tiny settings) finishes inside the POST."""

import pytest

from classifiers.models import CutoutFeatures, FeatureEncoder
from jobs.models import Job
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium fixture)
from tests.classifiers.test_feature_encoder import TINY
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def tiny_encoder(settings):
    import torch

    torch.set_num_threads(1)
    settings.RGZ_ENCODER_SETTINGS = dict(TINY)


def sign_in(page, live_server, username: str, path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{path}")


def test_admin_trains_the_survey_encoder_from_the_novelty_page(browser, live_server):  # noqa: F811
    _, cutouts = make_workflow_with_subjects(n=6, name="Enc", survey_name="enc")
    path = f"/surveys/{cutouts[0].survey_id}/novelty/"
    UserFactory(username="enc-admin", is_staff=True)
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, "enc-admin", path)
    assert "No encoder trained yet" in page.locator("#encoder-list").inner_text()

    # bad input is refused with the reason, nothing is made
    page.fill("#encoder-form input[name=steps]", "0")
    page.evaluate("() => document.querySelector('#encoder-form input[name=steps]').removeAttribute('min')")
    page.click("#encoder-form button[type=submit]")
    page.locator("#encoder-result.error").wait_for()
    assert "steps" in page.locator("#encoder-result").inner_text()
    assert not FeatureEncoder.objects.exists()
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    errors.clear()  # the browser logs the refused request itself; nothing else may log an error

    page.fill("#encoder-form input[name=steps]", "4")
    page.click("#encoder-form button[type=submit]")
    page.locator("#encoder-result.ok").wait_for(timeout=60000)
    assert "Training v1 started" in page.locator("#encoder-result").inner_text()
    encoder = FeatureEncoder.objects.get()
    assert encoder.status == "active" and encoder.config["steps"] == 4
    assert CutoutFeatures.objects.filter(feature_version=encoder.feature_version).count() == len(cutouts)

    # the link follows the training's job; the page lists the encoder and its gallery reads its space
    page.click("#encoder-result a")
    page.wait_for_url(f"**/jobs/{encoder.job_id}/")
    page.wait_for_function("() => document.getElementById('job-status').textContent === 'succeeded'")
    assert Job.objects.get(pk=encoder.job_id).status == "succeeded"
    page.goto(f"{live_server.url}{path}?space=encoder")
    row = page.locator("#encoder-list tr[data-encoder]")
    assert row.count() == 1 and "active" in row.inner_text() and "→" in row.inner_text()
    assert page.locator(".novelty-item").count() == len(cutouts)
    assert encoder.feature_version in page.locator("#novelty-page").inner_text()
    page.screenshot(path=str(ARTIFACTS / "encoder-desktop.png"), full_page=True)
    context.close()
    assert not errors, errors

    # on a phone, for an astronomer: the encoder table is a card, and there is no training form
    astronomer("enc-astro")
    phone = browser.new_context(**PHONE)
    small = phone.new_page()
    sign_in(small, live_server, "enc-astro", path)
    assert small.locator("#encoder-form").count() == 0
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390
    card = small.locator("#encoder-list tr[data-encoder] td").first.evaluate("(td) => getComputedStyle(td).display")
    assert card == "flow-root"  # stacked: a card per row
    small.locator("#encoder-panel").screenshot(path=str(ARTIFACTS / "encoder-phone.png"))
    phone.close()
