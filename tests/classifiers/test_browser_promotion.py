"""Promoting from a version's page in Chromium: a degenerate version warns and asks first, the
API refuses it without the confirmation, and after a promotion the scoring job is followed live."""

import pytest

from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.worker import run_job
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.classifiers.test_browser_classifiers import _Sent
from tests.classifiers.test_promotion_guard import ONE_CLASS, SOUND, _version
from tests.factories import UserFactory
from tests.pages import SIZES, no_sideways_scroll, open_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(SIZES))
def test_a_warned_promotion_then_the_scoring_progress(browser, live_server, monkeypatch, size):  # noqa: F811
    active = _version(1, SOUND, status=ModelVersion.Status.ACTIVE)
    weak = _version(2, ONE_CLASS)
    monkeypatch.setattr(run_job, "apply_async", lambda *a, **k: _Sent())  # no worker: jobs wait queued
    page = open_as(browser, live_server, UserFactory(username="boss-promote", is_staff=True), size)
    page.goto(f"{live_server.url}/classifiers/versions/{weak.pk}/")
    assert "FRI recall is 0" in page.locator(".warning").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"promote-version-{size}.png"), full_page=True)

    # the dialog says why; keeping the current version sends nothing
    page.click("button.promote")
    page.wait_for_selector("#promote-dialog[open]")
    assert "macro-F1 0.39 is far below accuracy 0.62" in page.locator("#promote-dialog-reason").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"promote-warning-{size}.png"))
    page.click("#promote-dialog button[value=cancel]")
    page.wait_for_function("() => document.querySelector('.action-message').textContent === 'Not promoted.'")
    assert ModelVersion.objects.get(pk=weak.pk).status == "ready"

    # confirmed: promoted, and the scoring job's progress is shown as it goes
    page.click("button.promote")
    page.click("#promote-anyway")
    page.wait_for_function("() => document.querySelector('.action-message').textContent.includes('now active')")
    assert ModelVersion.objects.get(pk=weak.pk).status == "active"
    assert ModelVersion.objects.get(pk=active.pk).status == "ready"
    scoring = Job.objects.get(kind="score_cutouts")
    Job.objects.filter(pk=scoring.pk).update(status="running", done=40, total=160, message="scored 40 of 160")
    page.wait_for_function("() => document.querySelector('.scoring-progress').value === 40")
    assert "scored 40 of 160" in page.locator(".scoring-message").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"promote-scoring-{size}.png"))
    Job.objects.filter(pk=scoring.pk).update(status="succeeded", done=160, result={"created": 160})
    page.wait_for_function("() => document.querySelector('.scoring-message').textContent.includes('succeeded')")
    no_sideways_scroll(page)
    assert not page.errors, page.errors
    page.context.close()
