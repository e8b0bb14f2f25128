"""Cancelling one's own job from the desk and from the job's page, in Chromium; another person's
job shows no Cancel button."""

import pytest
from django.utils import timezone

from jobs.models import Job
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.factories import astronomer
from tests.pages import SIZES, no_sideways_scroll, open_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", list(SIZES))
def test_an_astronomer_cancels_their_own_job_only(browser, live_server, size):  # noqa: F811
    owner = astronomer("astro-jobs")
    mine = Job.objects.create(
        kind="anomaly_scan", status="running", started_at=timezone.now(), done=3, total=40, created_by=owner
    )
    theirs = Job.objects.create(
        kind="train_classifier", status="running", started_at=timezone.now(), created_by=astronomer("astro-other")
    )
    queued = Job.objects.create(kind="ingest_images", created_by=owner)
    page = open_as(browser, live_server, owner, size)
    page.goto(f"{live_server.url}/desk/")
    page.wait_for_selector(f"#recent-jobs li[data-job='{mine.pk}'] button.job-cancel")
    assert page.locator(f"#recent-jobs li[data-job='{theirs.pk}'] button").count() == 0
    page.locator("#recent-jobs").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"jobs-desk-{size}.png"))
    page.click(f"#recent-jobs li[data-job='{queued.pk}'] button.job-cancel")
    outcome = f"#recent-jobs li[data-job='{queued.pk}'] .outcome"
    page.wait_for_function(f"() => document.querySelector(\"{outcome}\").textContent === 'cancelled'")
    assert Job.objects.get(pk=queued.pk).status == "cancelled"
    no_sideways_scroll(page)

    # the job's own page: Cancel asks, the running job is marked as stopping
    page.goto(f"{live_server.url}/jobs/{mine.pk}/")
    page.wait_for_selector("#job-cancel:not([hidden])")
    page.click("#job-cancel")
    page.wait_for_function("() => document.getElementById('job-cancel-result').textContent.includes('next progress')")
    assert Job.objects.get(pk=mine.pk).cancel_requested_at is not None
    assert page.locator("#job-cancel").is_disabled()
    page.screenshot(path=str(ARTIFACTS / f"jobs-page-{size}.png"))
    page.goto(f"{live_server.url}/jobs/{theirs.pk}/")
    page.wait_for_function("() => document.getElementById('job-status').textContent.startsWith('running')")
    assert page.locator("#job-cancel").is_hidden()
    assert Job.objects.get(pk=theirs.pk).cancel_requested_at is None
    assert not page.errors, page.errors
    page.context.close()
