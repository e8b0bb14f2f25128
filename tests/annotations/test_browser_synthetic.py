"""A generated subject in the classify page (Debian Chromium): unmarked while the volunteer answers,
the optional realism question, the notice after the answer, the field guide's note; an astronomer
sets the workflow's synthetic share on the acquisition page. Desktop and phone screenshots."""

import pytest

from annotations.models import Classification, Cutout, Survey, Workflow
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (shared Chromium fixture)
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def generated_only_workflow():
    """Two subjects, both generated, with no cap: the first served is a generated one."""
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5, name="Browser synthetic", survey_name="br-syn")
    Cutout.objects.filter(pk__in=[c.pk for c in cutouts]).update(
        synthetic=True, metadata={"#generator_version": 1, "#requested_class": "FRII", "#seed": 0}
    )
    Workflow.objects.filter(pk=workflow.pk).update(synthetic_share=1.0)
    return workflow


def classify_page(chromium, live_server, workflow, viewport):
    """A new volunteer's classify page of ``workflow`` (tutorial seen); its script errors are collected."""
    context = chromium.new_context(viewport=viewport)
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    return context, page, errors


def test_volunteer_answers_a_generated_subject_blind_and_is_told_after(browser, live_server):  # noqa: F811
    workflow = generated_only_workflow()
    for viewport, shot in ((DESKTOP, "synthetic-notice-desktop.png"), (PHONE, "synthetic-notice-phone.png")):
        context, page, errors = classify_page(browser, live_server, workflow, viewport)
        page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
        caption = page.locator("#subject-caption").inner_text()
        assert "generated" not in caption.lower()  # nothing marks it before the answer
        assert page.locator("#realism").is_visible()
        page.check("input[name=T0][value='2']")
        page.check("input[name=realism][value=real]")
        page.click("#submit")
        page.wait_for_selector("#synthetic-notice:not([hidden])", timeout=15000)
        assert "generated example" in page.locator("#synthetic-notice").inner_text()
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        page.click("#open-guide")
        assert page.locator("#guide-generated").is_visible()
        page.keyboard.press("Escape")
        context.close()
        assert not errors, errors
    stored = list(Classification.objects.order_by("id"))
    assert len(stored) == 2 and all(c.realism == "real" for c in stored)


def test_astronomer_sets_the_synthetic_share(browser, live_server):  # noqa: F811
    workflow = generated_only_workflow()
    astronomer("astro-syn")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/workflows/{workflow.pk}/acquisition/")
    page.fill("#id_username", "astro-syn")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/workflows/{workflow.pk}/acquisition/")
    page.wait_for_selector("#synthetic-form")
    page.fill("#synthetic-share", "1.5")
    page.click("#synthetic-form button[type=submit]")  # the browser refuses it before any request
    assert page.eval_on_selector("#synthetic-share", "e => e.validity.valid") is False
    assert Workflow.objects.get(pk=workflow.pk).synthetic_share == 1.0
    page.fill("#synthetic-share", "0.1")
    page.click("#synthetic-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('synthetic-result').textContent.startsWith('Saved')")
    assert Workflow.objects.get(pk=workflow.pk).synthetic_share == 0.1
    page.locator("#synthetic-card").screenshot(path=str(ARTIFACTS / "synthetic-share.png"))
    context.close()


def test_no_subject_shows_its_position_before_the_answer_where_generated_ones_are_served(browser, live_server):  # noqa: F811
    """One real subject (with a sky position) and one generated (none): both read alike before the
    answer; the real one's position is told after it, as the generated one's nature is."""
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5, name="Browser blind", survey_name="br-blind")
    Cutout.objects.filter(pk=cutouts[1].pk).update(
        synthetic=True, ra_deg=None, dec_deg=None, wcs_header="", metadata={"#requested_class": "FRII"}
    )
    Survey.objects.filter(pk=cutouts[0].survey_id).update(pixel_scale_arcsec=1.8)
    Workflow.objects.filter(pk=workflow.pk).update(synthetic_share=1.0)
    for viewport, size in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context, page, errors = classify_page(browser, live_server, workflow, viewport)
        told = []
        for _ in range(2):
            page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
            caption = page.locator("#subject-caption").inner_text()
            assert "shown after you answer" in caption and "RA" not in caption, caption
            assert page.locator("#sky-readout").inner_text() == "The sky position is shown after you answer."
            assert page.locator("#scale-bar").is_visible()  # the survey's pixel scale still gives a scale bar
            page.check("input[name=T0][value='2']")
            if page.locator("#realism").is_visible():
                page.check("input[name=realism][value=real]")
            page.click("#submit")
            page.wait_for_selector("#synthetic-notice:not([hidden])", timeout=15000)
            told.append(page.locator("#synthetic-notice").inner_text())
            if len(told) == 1:
                page.screenshot(path=str(ARTIFACTS / f"blind-position-{size}.png"), full_page=True)
        assert sorted("generated example" in text for text in told) == [False, True], told
        real_notice = next(text for text in told if "generated example" not in text)
        assert real_notice.startswith("Subject ") and " lies at RA 10h00m" in real_notice, real_notice
        context.close()
        assert not errors, errors
