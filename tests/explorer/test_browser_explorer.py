"""The data browser and a cutout's page in Debian Chromium, at desktop and phone sizes."""

import pytest

from annotations.models import Cutout, SubjectWorkflowStatus
from tests.annotations.test_browser import ARTIFACTS, _session_for, browser  # noqa: F401  (shared Chromium)
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser, live_server):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    phone = request.param == "phone"
    context = browser.new_context(viewport=SIZES[request.param], is_mobile=phone, has_touch=phone)
    context.add_cookies([{"name": "sessionid", "value": _session_for(astronomer("explorer")), "url": live_server.url}])
    page = context.new_page()
    page.size_name = request.param
    yield page
    page.wait_for_load_state("networkidle")
    context.close()


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width} px wide"


def test_astronomer_filters_selects_and_queues_then_reads_a_cutout(sized_page, live_server, browsable):
    page, size = sized_page, sized_page.size_name
    workflow, c = browsable
    follow_up, _ = make_workflow_with_subjects(n=0, name="Follow-up", survey_name="elsewhere")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # script errors (a 400 or 404 answer is expected)
    page.goto(f"{live_server.url}/browse/")
    page.wait_for_function("() => document.querySelectorAll('#grid li').length === 4")
    assert page.locator("#browse-status").inner_text() == "4 cutouts match"
    page.screenshot(path=str(ARTIFACTS / f"browse-{size}.png"), full_page=True)

    # filters: FRII-labelled ones, most uncertain first (on a phone they start folded under one button)
    label = page.locator("#filters select[name=label]")
    if size == "phone":
        assert not label.is_visible() and page.locator("#grid li").first.is_visible()
        page.click("#filter-toggle")
    assert label.is_visible() and page.locator("#filter-toggle").is_visible() is (size == "phone")
    page.select_option("#filters select[name=label]", "FRII")
    page.select_option("#filters select[name=task]", "fr-morphology")
    page.select_option("#filters select[name=sort]", "-uncertainty")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => document.getElementById('browse-status').textContent === '2 cutouts match'")
    shown = page.eval_on_selector_all("#grid li", "items => items.map(li => Number(li.dataset.cutout))")
    assert shown == [c[1].pk, c[2].pk]
    assert "label=FRII" in page.url  # the view can be bookmarked

    # a bad range is refused with a message, not an empty grid that looks like an answer
    page.fill("#filters input[name=complexity_min]", "90")
    page.fill("#filters input[name=complexity_max]", "10")
    page.click("#filters button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('browse-status').textContent.startsWith('Filters not applied')"
    )
    page.fill("#filters input[name=complexity_min]", "")
    page.fill("#filters input[name=complexity_max]", "")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => document.getElementById('browse-status').textContent === '2 cutouts match'")

    # select the page, add it to another workflow's queue
    page.check("#select-page")
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.select_option("#bulk select[name=workflow]", str(follow_up.pk))
    page.click("#bulk button[type=submit]")
    page.wait_for_function("() => document.getElementById('bulk-result').textContent.startsWith('2 of 2 changed')")
    assert set(SubjectWorkflowStatus.objects.filter(workflow=follow_up).values_list("subject_id", flat=True)) == {
        c[1].pk,
        c[2].pk,
    }
    # then a priority for one of them
    page.uncheck(f"#grid li[data-cutout='{c[2].pk}'] input.pick")
    page.select_option("#bulk select[name=action]", "set_priority")
    page.fill("#bulk input[name=priority]", "42")
    page.click("#bulk button[type=submit]")
    page.wait_for_function("() => document.getElementById('bulk-result').textContent.startsWith('1 of 1 changed')")
    assert Cutout.objects.get(pk=c[1].pk).priority == 42 and Cutout.objects.get(pk=c[2].pk).priority is None
    page.screenshot(path=str(ARTIFACTS / f"browse-filtered-{size}.png"), full_page=True)
    _no_sideways_scroll(page)

    # the cutout's page, from its thumbnail
    page.click(f"#grid li[data-cutout='{c[1].pk}'] a.name")
    page.wait_for_url(f"{live_server.url}/cutouts/{c[1].pk}/")
    assert "two lobes, far apart" in page.locator("#classifications").inner_text()
    assert "FR II" in page.locator("#consensus").inner_text()
    assert "42" in page.locator("#cutout-priority").inner_text()
    # the similarity endpoint is not there: the page says so instead of failing
    page.wait_for_function("() => document.getElementById('similar-status').textContent.includes('not available yet')")
    page.screenshot(path=str(ARTIFACTS / f"cutout-{size}.png"), full_page=True)
    _no_sideways_scroll(page)
    assert not errors, errors


def test_explaining_with_a_model_of_another_survey_is_flagged(sized_page, live_server, browsable):
    from classifiers.models import ClassifierTask, ModelVersion

    page, size = sized_page, sized_page.size_name
    workflow, c = browsable
    other, _ = make_workflow_with_subjects(n=0, name="Elsewhere", survey_name="other-survey")
    task = ClassifierTask.objects.create(
        name="elsewhere", survey=other.subject_sets.get().survey, workflow=other, classes=["Compact", "Extended"]
    )
    ModelVersion.objects.create(task=task, number=1, status=ModelVersion.Status.ACTIVE, config={})
    page.goto(f"{live_server.url}/cutouts/{c[0].pk}/")
    assert page.locator("#explain-task option[value=elsewhere]").is_enabled()
    assert page.locator("#explain-task option[value=fr-morphology]").is_disabled()  # no active version
    warning = page.locator("#explain-warning")
    assert "trained on other-survey" in warning.inner_text()
    assert "label FRI is not one of its classes" in warning.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"cutout-explain-warning-{size}.png"), full_page=True)
    page.click("#explain-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/classifiers/explain/{c[0].pk}/?task=elsewhere")
