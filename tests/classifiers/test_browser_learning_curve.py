"""The classifier page's live learning curve in Debian Chromium: one point per evaluated version,
the round's phase while it runs, and the new version's point once it ends (desktop and phone)."""

import threading

import pytest

from classifiers import active_loop, promotion, services
from classifiers.models import ModelVersion
from jobs.runner import job_run
from tests.annotations.test_browser import ARTIFACTS, browser, page  # noqa: F401  (shared Chromium fixtures)
from tests.classifiers.test_browser_classifiers import _work, seeded_task
from tests.classifiers.test_classifiers import TINY
from tests.factories import astronomer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(tab, base: str) -> None:
    tab.goto(f"{base}/accounts/login/?next=/classifiers/")
    tab.fill("#id_username", "astro")
    tab.fill("#id_password", "pw-for-tests")
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/classifiers/")


def test_the_learning_curve_follows_a_round_live_on_desktop_and_phone(page, browser, live_server, settings):  # noqa: F811
    import torch

    torch.set_num_threads(1)
    settings.RGZ_ACTIVE_ROUND_EPOCHS = 2
    task = seeded_task()
    v1 = services.training_start(task=task, epochs=1, labels="expert", overrides=TINY, send=False)
    job_run(job_id=v1.job.pk)
    promotion.version_promote(version=ModelVersion.objects.get(pk=v1.pk), score=False)
    astronomer()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server.url)

    curve = page.locator(".task-block[data-task=fr-browser] .learning-curve")
    page.wait_for_function("() => document.querySelector('.learning-curve').dataset.points === '1'")
    assert curve.locator("circle.curve-point").count() == 1
    assert "No round yet" in curve.locator(".round-status").inner_text()

    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    # the queued round shows up without a reload, then the worker takes it
    page.wait_for_function(
        "() => /Round queued/.test(document.querySelector('.learning-curve .round-status').textContent)",
        timeout=20000,
    )
    page.screenshot(path=str(ARTIFACTS / "classifiers-learning-curve-queued.png"), full_page=False)
    worker = threading.Thread(target=_work, args=(job.pk,))
    worker.start()
    worker.join(timeout=180)
    page.wait_for_function("() => document.querySelector('.learning-curve').dataset.points === '2'", timeout=30000)
    assert curve.locator("circle.curve-point").count() == 2
    page.wait_for_function("() => document.querySelector('.learning-curve').dataset.round === 'succeeded'")
    assert curve.locator("circle.curve-point.active").get_attribute("data-number") == "2"
    assert "Last round succeeded" in curve.locator(".round-status").inner_text()
    assert "v2" in curve.locator("svg").text_content()
    page.screenshot(path=str(ARTIFACTS / "classifiers-learning-curve-desktop.png"), full_page=False)
    curve.screenshot(path=str(ARTIFACTS / "classifiers-learning-curve-chart.png"))

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone_page = phone.new_page()
    sign_in(phone_page, live_server.url)
    phone_page.wait_for_function("() => document.querySelector('.learning-curve').dataset.points === '2'")
    box = phone_page.locator(".learning-curve svg").bounding_box()
    assert box["width"] <= 390 and box["height"] > 100  # scaled to the screen, still readable
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 392, f"the page scrolls sideways on a phone ({width} px)"
    phone_page.locator(".learning-curve").scroll_into_view_if_needed()
    phone_page.screenshot(path=str(ARTIFACTS / "classifiers-learning-curve-phone.png"), full_page=False)
    phone_page.wait_for_load_state("networkidle")
    phone.close()
    assert console_errors == []
