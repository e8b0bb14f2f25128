"""The acquisition policy page and the gold-standard feedback in Debian Chromium: an astronomer sets
weights, exploration and the gold schedule, reads the preview, saves and rolls back; a volunteer
answering a gold subject sees what the experts said. Desktop and phone screenshots."""

import numpy as np
import pytest

from annotations.acquisition import gold_subjects_mark, policy_save
from annotations.models import AcquisitionPolicy, Classification, SubjectWorkflowStatus
from annotations.services import expert_classification_create
from classifiers.models import ClassifierTask
from tests.annotations.test_browser import ARTIFACTS, TUTORIAL_SEEN, browser  # noqa: F401  (shared Chromium fixture)
from tests.classifiers.test_acquisition import active_model, score
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
FRII = 2


def scored_workflow(n: int = 8):
    workflow, cutouts = make_workflow_with_subjects(n=n, retirement=3, name="Browser acquire", survey_name="br-acq")
    task = ClassifierTask.objects.create(
        name="fr-br", survey=cutouts[0].survey, workflow=workflow, classes=["FRI", "FRII"]
    )
    version = active_model(task)
    for i, cutout in enumerate(cutouts):
        score(cutout, task, version, entropy=0.05 + 0.08 * i)
    for cutout in cutouts[:2]:
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": FRII}], source="catalogue"
        )
    return workflow, cutouts


def sign_in(page, live_server, next_path: str) -> None:
    astronomer("astro-br")
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", "astro-br")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_path}")


def preview_reasons(page) -> list[str]:
    return page.eval_on_selector_all("#preview li", "items => items.map(i => i.dataset.reason)")


def test_astronomer_sets_previews_saves_and_rolls_back_a_policy(browser, live_server):  # noqa: F811
    workflow, cutouts = scored_workflow()
    path = f"/workflows/{workflow.pk}/acquisition/"
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, path)
    page.wait_for_selector("#preview li")
    assert "No policy saved yet" in page.locator("#active-line").inner_text()

    # entropy only, nothing at random: the most uncertain subject (src-7) comes first
    for name in ("complexity", "margin", "bald", "novelty"):
        page.fill(f"[data-weight-number={name}]", "0")
    page.fill("[data-weight-number=entropy]", "1")
    page.locator("#exploration").fill("0")
    page.uncheck("#diversity")
    page.wait_for_function("() => document.querySelectorAll('#preview li').length === 8")
    page.wait_for_function("() => document.querySelector('#preview li strong').textContent.includes('src-7')")
    assert set(preview_reasons(page)) == {"priority"}
    assert page.locator("#preview li").first.locator("table.breakdown").count() == 1
    assert page.locator("#preview li img").first.evaluate("img => img.naturalWidth") > 0
    page.fill("#policy-note", "entropy only")
    page.click("#policy-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('Saved as policy 1')")
    assert AcquisitionPolicy.objects.get(workflow=workflow, active=True).policy["weights"]["entropy"] == 1.0

    # half at random, and gold subjects in the mix for a new volunteer
    page.locator("#exploration").fill("0.5")
    page.click("#gold-mark")
    page.wait_for_function("() => document.getElementById('gold-count').textContent === '2'")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#preview li')].some(li => li.dataset.reason === 'gold')"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('#preview li')].some(li => li.dataset.reason === 'exploration')"
    )
    page.click("#policy-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('Saved as policy 2')")
    page.screenshot(path=str(ARTIFACTS / "acquisition-desktop.png"), full_page=True)

    page.locator("#history tr[data-policy] button.rollback").first.click()
    page.wait_for_function(
        "() => document.getElementById('save-result').textContent.includes('Rolled back to policy 1')"
    )
    assert AcquisitionPolicy.objects.get(workflow=workflow, active=True).number == 1
    assert page.locator("#exploration").input_value() == "0"

    # a bad setting is refused with the reason, in the page
    page.fill("[data-weight-number=entropy]", "0")
    page.wait_for_function(
        "() => document.getElementById('preview-notes').textContent.includes('all weights are zero')"
    )
    context.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    sign_in(small, live_server, path)
    small.wait_for_selector("#preview li")
    # nothing of the page's own overflows its cards (the site header is the base template's)
    overflowing = small.eval_on_selector_all(
        "#acquisition-page .card", "cards => cards.filter(c => c.scrollWidth > c.clientWidth + 1).length"
    )
    small.screenshot(path=str(ARTIFACTS / "acquisition-phone.png"), full_page=True)
    phone.close()
    assert overflowing == 0
    # the refused preview (all weights zero) is the one failed request; nothing else went wrong
    assert [e for e in errors if "status of 400" not in e] == [], errors


def test_volunteer_sees_the_experts_answer_after_a_gold_subject(browser, live_server):  # noqa: F811
    workflow, cutouts = scored_workflow(n=4)
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values={"weights": {"entropy": 1.0}, "gold_start": 1.0, "gold_end": 1.0})
    for viewport, shot in ((DESKTOP, "gold-feedback-desktop.png"), (PHONE, "gold-feedback-phone.png")):
        context = browser.new_context(viewport=viewport)
        context.add_init_script(TUTORIAL_SEEN)  # a returning volunteer
        page = context.new_page()
        page.goto(f"{live_server.url}/classify/{workflow.pk}/")
        page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
        page.check("input[name=T0][value='1']")  # FR I, where the experts said FR II
        page.click("#submit")
        page.wait_for_selector("#gold-feedback:not([hidden])", timeout=15000)
        text = page.locator("#gold-feedback").inner_text()
        assert "saw that one differently" in text and "Experts: FR II" in text and "You: FR I" in text
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        context.close()
    gold_answers = Classification.objects.filter(expert=False, gold_standard=True)
    assert gold_answers.count() == 2 and {c.subject_id for c in gold_answers} <= {cutouts[0].pk, cutouts[1].pk}


def test_novelty_gallery_opens_similar_sources_and_sends_to_the_queue(browser, live_server):  # noqa: F811
    from classifiers import services

    workflow, cutouts = scored_workflow(n=8)
    version = ClassifierTask.objects.get(name="fr-br").versions.get()
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(8, 16)).astype(np.float32)
    vectors[7] += 25.0  # src-7 unlike every other
    services.cutout_features_store(version=version, ids=[c.pk for c in cutouts], vectors=vectors)
    path = f"/surveys/{cutouts[0].survey_id}/novelty/"
    for viewport, shot in ((DESKTOP, "novelty-desktop.png"), (PHONE, "novelty-phone.png")):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        errors = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, live_server, path)
        first = page.locator(".novelty-item").first
        assert first.locator("strong").inner_text().startswith("1. src-7")
        first.locator("details.similar summary").click()
        first.locator(".similar-list li").first.wait_for()
        assert first.locator(".similar-list li").count() == 6
        first.locator("button.send-to-queue").click()
        first.locator(".send-result.ok").wait_for()
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        context.close()
        assert not errors, errors
    front = SubjectWorkflowStatus.objects.filter(workflow=workflow).order_by("-priority").first()
    assert front.subject_id == cutouts[7].pk
