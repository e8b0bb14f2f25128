"""The generator registry and gallery in Debian Chromium: promote a trained version, generate
samples, approve a class of them, at desktop and phone size."""

import pytest
import torch
from django.core.management import call_command

from annotations.models import Cutout, SubjectWorkflowStatus, Workflow
from generative.models import GeneratedSample, GeneratorVersion
from tests.annotations.test_browser import ARTIFACTS, browser, page  # noqa: F401  (shared Chromium fixtures)
from tests.factories import UserFactory, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(tab, live_server, next_url):
    tab.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    tab.fill("#id_username", "boss")
    tab.fill("#id_password", "pw-for-tests")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{live_server.url}{next_url}")


def trained_survey(survey_name: str, workflow_name: str, epochs: int, settings) -> GeneratorVersion:
    """Ten labelled cutouts (FRI / FRII alternately) and a tiny generator trained on them."""
    torch.set_num_threads(1)
    settings.RGZ_GENERATIVE_EVAL_PER_CLASS = 2
    workflow, cutouts = make_workflow_with_subjects(n=10, retirement=3, name=workflow_name, survey_name=survey_name)
    for i, cutout in enumerate(cutouts):
        Cutout.objects.filter(pk=cutout.pk).update(metadata={"label": "FRI" if i % 2 else "FRII"})
    call_command("train_generator", "--survey", survey_name, "--preset", "tiny", "--epochs", str(epochs), "--inline")
    return GeneratorVersion.objects.get(survey__name=survey_name)


def test_admin_promotes_generates_and_approves_samples(page, live_server, settings, browser):  # noqa: F811
    version = trained_survey("gen-browser", "Gen browser", 2, settings)
    workflow = Workflow.objects.get(display_name="Gen browser")
    UserFactory(username="boss", is_staff=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    sign_in(page, live_server, "/generative/")
    assert page.locator(f"tr[data-version='{version.pk}'] img.grid").evaluate("img => img.naturalWidth") > 0
    with page.expect_navigation(timeout=30000):
        page.click(f"tr[data-version='{version.pk}'] button.promote")
        page.wait_for_function("() => document.querySelector('.action-message').textContent.includes('now active')")
    assert GeneratorVersion.objects.get(pk=version.pk).status == "active"

    page.fill(".generate-form input[name=per_class]", "3")
    page.click(".generate-form button[type=submit]")
    page.wait_for_selector(".generate-form .form-message a", timeout=60000)
    page.screenshot(path=str(ARTIFACTS / "generative-registry.png"), full_page=True)
    assert GeneratedSample.objects.count() == 6

    page.goto(f"{live_server.url}/generative/gallery/{version.survey_id}/")
    fri = page.locator("fieldset.class-block[data-class=FRI]")
    fri.locator(".select-class").check()
    page.screenshot(path=str(ARTIFACTS / "generative-gallery.png"), full_page=True)
    page.click("button[value=approved]")
    page.wait_for_function("() => document.getElementById('review-result').textContent.includes('approved')")
    approved = GeneratedSample.objects.filter(review="approved")
    assert approved.count() == 3 and {s.requested_class for s in approved} == {"FRI"}
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, subject__synthetic=True).count() == 3
    assert not errors, errors

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    small = phone.new_page()
    sign_in(small, live_server, f"/generative/gallery/{version.survey_id}/")
    sample = small.locator(".sample input").first
    assert sample.bounding_box()["width"] >= 20  # a tick box a thumb can hit beside its 128 px image
    small.screenshot(path=str(ARTIFACTS / "generative-gallery-phone.png"), full_page=True)
    phone.close()


def test_registry_shows_the_judged_measures_and_evaluates_again(page, live_server, settings, browser):  # noqa: F811
    version = trained_survey("gen-judged", "Gen judged", 1, settings)
    UserFactory(username="boss", is_staff=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    sign_in(page, live_server, "/generative/")
    row = page.locator(f"tr[data-version='{version.pk}']")
    assert "no active classifier for this survey" in row.locator("td.judged").inner_text()
    row.locator("button.evaluate").click()
    page.wait_for_selector(".action-message a", timeout=60000)
    assert "evaluating" in page.locator(".action-message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "generative-registry-judged.png"), full_page=True)
    assert not errors, errors

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    small = phone.new_page()
    sign_in(small, live_server, "/generative/")
    small.screenshot(path=str(ARTIFACTS / "generative-registry-judged-phone.png"), full_page=True)
    phone.close()


@pytest.mark.parametrize("size", ["1280x720", "390x844"])
def test_a_versions_page_shows_its_measures_and_plots(browser, live_server, settings, size):  # noqa: F811
    from tests.pages import no_sideways_scroll, open_as

    version = trained_survey("gen-plots", "Gen plots", 3, settings)
    tab = open_as(browser, live_server, UserFactory(username="boss", is_staff=True), size)
    tab.goto(f"{live_server.url}/generative/versions/{version.pk}/")
    for alt in ("Integrated flux", "Training loss"):
        plot = tab.locator(f"img.plot[alt^='{alt}']")
        plot.wait_for()
        assert plot.evaluate("img => img.complete && img.naturalWidth") > 200
        assert plot.bounding_box()["width"] <= tab.viewport_size["width"]
    assert tab.locator("table.measures tr[data-key='ks_flux'] td").nth(1).inner_text() != ""
    assert tab.locator("table.per-class tr[data-class]").count() == 2
    no_sideways_scroll(tab)
    tab.screenshot(path=str(ARTIFACTS / f"generative-version-{size}.png"), full_page=True)
    assert not tab.errors, tab.errors
    tab.context.close()
