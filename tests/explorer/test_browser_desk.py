"""The astronomer desk in Debian Chromium at desktop and phone sizes: surveys and classifier tasks
picked from lists, uploads linked to their pages, recent jobs updated live with failures shown."""

import pytest

from annotations.models import Cutout, Survey
from classifiers.models import ClassifierTask
from jobs.models import Job
from tests.annotations.test_browser import ARTIFACTS, browser  # noqa: F401  (shared Chromium)
from tests.explorer.test_browser_explorer import sized_page  # noqa: F401
from tests.factories import blob_array, fits_bytes, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_pickers_upload_links_and_live_jobs(sized_page, live_server, tmp_path):  # noqa: F811
    page, size = sized_page, sized_page.size_name
    workflow, cutouts = make_workflow_with_subjects(n=1, name="Desk flow", survey_name="EMU pilot")
    ClassifierTask.objects.create(
        name="emu-morphology", survey=cutouts[0].survey, workflow=workflow, classes=["a", "b"]
    )
    good = tmp_path / "lobes.fits"
    good.write_bytes(fits_bytes(blob_array(48), ra=120.5, dec=-30.25))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/desk/")

    # an existing survey is picked from the list, so no typo makes a new one
    assert page.locator("#up-survey-new").is_hidden()
    page.select_option("#up-survey-pick", "EMU pilot")
    page.set_input_files("#up-file", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#uploaded li a")
    stored = Cutout.objects.get(name="lobes")
    assert stored.survey.name == "EMU pilot" and Survey.objects.count() == 1
    assert page.locator("#uploaded li a").get_attribute("href") == f"/cutouts/{stored.pk}/"

    # a new survey is an explicit choice
    page.select_option("#up-survey-pick", "__new__")
    assert page.locator("#up-survey").is_visible()
    page.fill("#up-survey", f"ASKAP {size}")
    page.set_input_files("#up-file", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#uploaded li').length === 2")
    assert Survey.objects.filter(name=f"ASKAP {size}").exists()
    assert page.locator("#up-survey-pick").input_value() == f"ASKAP {size}"

    # the classifier task for the uncertainty order is picked from the survey's tasks
    picker = page.locator("tr[data-survey='EMU pilot'] select[name=task]")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"tr[data-survey='EMU pilot'] select[name=task] option\")]"
        ".some(o => o.value === 'emu-morphology')"
    )
    picker.select_option("emu-morphology")

    # a job that finishes with one failure appears without a reload, and says so
    Job.objects.create(
        kind="ingest_demo", status="succeeded", done=2158, total=2158, result={"created": 2157, "failed": 1}
    )
    page.wait_for_function(
        "() => document.getElementById('recent-jobs').textContent.includes('succeeded with 1 failure (2157/2158)')",
        timeout=10000,
    )
    page.locator("#recent-jobs").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"desk-{size}.png"), full_page=True)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the desk is {width} px wide"
    page.click(f"#uploaded li a[href='/cutouts/{stored.pk}/']")
    page.wait_for_url(f"{live_server.url}/cutouts/{stored.pk}/")
    assert not errors, errors
