"""The admin's training controls in Debian Chromium at desktop and phone sizes: presets with a
time estimate, a step limit, the last choice kept, Cancel, and a reasoned confirmation before
promoting a degenerate version."""

import pytest

from classifiers import services
from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from jobs.worker import run_job
from tests.annotations.test_browser import ARTIFACTS, _session_for, browser  # noqa: F401  (shared Chromium)
from tests.classifiers.test_browser_classifiers import _Sent, seeded_task
from tests.classifiers.test_classifiers import TINY
from tests.explorer.test_browser_explorer import SIZES
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=list(SIZES))
def admin_page(request, browser, live_server):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    phone = request.param == "phone"
    context = browser.new_context(viewport=SIZES[request.param], is_mobile=phone, has_touch=phone)
    boss = UserFactory(username="boss", is_staff=True)
    context.add_cookies([{"name": "sessionid", "value": _session_for(boss), "url": live_server.url}])
    page = context.new_page()
    page.size_name = request.param
    yield page
    page.wait_for_load_state("networkidle")
    context.close()


def test_presets_step_limit_cancel_and_a_warned_promotion(admin_page, live_server, settings, monkeypatch):
    import torch

    torch.set_num_threads(1)
    page, size = admin_page, admin_page.size_name
    task = seeded_task()
    v1 = services.training_start(task=task, epochs=2, labels="expert", overrides=TINY, send=False)
    job_run(job_id=v1.job.pk)  # a finished training: the page measures the pace from it
    # v1 as a degenerate version: FR I never found
    ModelVersion.objects.filter(pk=v1.pk).update(
        metrics={**ModelVersion.objects.get(pk=v1.pk).metrics, "classes": ["FRI", "FRII"], "recall": [0.0, 1.0],
                 "accuracy": 0.62, "macro_f1": 0.39}
    )  # fmt: skip
    held = []
    run_now = run_job.apply_async

    def hold_trainings(args, **options):  # no training worker: trainings wait in the queue
        if Job.objects.get(pk=args[0]).kind != services.TRAIN_JOB:
            return run_now(args=args, **options)
        held.append(args)
        return _Sent()

    monkeypatch.setattr(run_job, "apply_async", hold_trainings)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/classifiers/")
    block = page.locator(".task-block[data-task=fr-browser]")
    form = block.locator(".retrain-form")
    assert "s per epoch" in form.locator(".estimate").inner_text()
    presets = form.locator("select[name=preset] option").all_inner_texts()
    assert any(t.startswith("Quick check: 5 epochs, about") for t in presets), presets
    assert form.locator("input[name=epochs]").input_value() == "2"  # the last start's, not 800

    # the degenerate version: the dialog says why; keeping the current one promotes nothing
    block.locator("button.promote").click()
    page.wait_for_selector("#promote-dialog[open]")
    reason = page.locator("#promote-dialog-reason").inner_text()
    assert "FRI recall is 0" in reason and "macro-F1 0.39 is far below accuracy 0.62" in reason
    page.screenshot(path=str(ARTIFACTS / f"classifiers-promote-warning-{size}.png"), full_page=False)
    page.click("#promote-dialog button[value=cancel]")
    page.wait_for_function("() => document.querySelector('.action-message').textContent === 'Not promoted.'")
    assert ModelVersion.objects.get(pk=v1.pk).status == "ready"

    # a quick preset with a step limit
    form.locator("select[name=preset]").select_option("5")
    form.locator("input[name=max_steps]").fill("3")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".live .cancel-training", timeout=15000)
    v2 = ModelVersion.objects.get(task=task, number=2)
    assert v2.config["epochs"] == 5 and v2.config["max_steps"] == 3 and held
    assert page.locator(".retrain-form input[name=epochs]").input_value() == "5"  # kept after the start
    page.screenshot(path=str(ARTIFACTS / f"classifiers-training-controls-{size}.png"), full_page=True)

    # Cancel: the job is cancelled, the version fails with the reason, v1 is untouched
    page.click(".live .cancel-training")
    page.wait_for_function("() => document.querySelector('.live .live-status').textContent === 'cancelled'")
    assert Job.objects.get(pk=v2.job_id).status == "cancelled"
    assert ModelVersion.objects.get(pk=v2.pk).status == "failed"
    assert ModelVersion.objects.get(pk=v1.pk).status == "ready"
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"the page is {width} px wide"
    assert not errors, errors
