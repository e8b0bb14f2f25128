"""The classifier registry in Debian Chromium: start a retraining, watch it live, read the
metrics and plots, promote, compare, roll back, and read a LIME explanation beside the cutout."""

import threading

import pytest

from annotations.models import Cutout
from annotations.services import expert_classification_create
from classifiers import promotion, services
from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from jobs.worker import run_job
from tests.annotations.test_browser import ARTIFACTS, browser, page  # noqa: F401  (shared Chromium fixtures)
from tests.classifiers.test_classifiers import TINY, add_cutout
from tests.factories import UserFactory, make_workflow_with_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seeded_task():
    workflow, _ = make_workflow_with_subjects(n=0, retirement=20, name="Browser FR", survey_name="browser-fr")
    subject_set = workflow.subject_sets.first()
    for i in range(16):
        lobes = 1 if i % 2 == 0 else 2
        cutout = add_cutout(subject_set.survey, f"src-{i:02d}", lobes, seed=i, subject_set=subject_set)
        if i < 12:
            expert_classification_create(
                workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": lobes}], source="test"
            )
    return services.classifier_task_create(
        name="fr-browser", survey=subject_set.survey, workflow=workflow, classes=["FRI", "FRII"]
    )


def test_admin_retrains_follows_promotes_compares_and_rolls_back(page, live_server, settings, monkeypatch):  # noqa: F811
    import torch

    torch.set_num_threads(1)
    settings.RGZ_CLASSIFIER_LIME_SAMPLES = 20
    task = seeded_task()
    v1 = services.training_start(task=task, epochs=1, labels="expert", overrides=TINY)
    job_run(job_id=v1.job.pk)
    promotion.version_promote(version=ModelVersion.objects.get(pk=v1.pk))
    # No worker in this test: the queued job waits until the test runs it, as a worker would.
    sent = []
    run_now = run_job.apply_async  # scorings and explanations still run at once (eager Celery)

    def hold_trainings(args, **options):
        if Job.objects.get(pk=args[0]).kind != services.TRAIN_JOB:
            return run_now(args=args, **options)
        sent.append((args, options.get("queue")))
        return _Sent()

    monkeypatch.setattr(run_job, "apply_async", hold_trainings)
    UserFactory(username="boss", is_staff=True)
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/?next=/classifiers/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/classifiers/")
    assert "v1" in page.locator(".task-block[data-task=fr-browser]").inner_text()

    form = page.locator(".task-block[data-task=fr-browser] .retrain-form")
    form.locator("input[name=epochs]").fill("4")
    form.locator("select[name=labels]").select_option("expert")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".live", timeout=15000)
    assert sent and sent[0][1] == "training"  # queued on the training queue
    assert "waiting for a training worker" in page.locator(".live-message").inner_text()

    v2 = ModelVersion.objects.get(task=task, number=2)
    assert v2.status == "training" and v2.config["epochs"] == 4
    worker = threading.Thread(target=_work, args=(v2.job_id,))
    worker.start()
    page.wait_for_selector(".live-epochs tbody tr", timeout=60000)  # epochs arrive while it trains
    assert "epoch" in page.locator(".live-message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "classifiers-training.png"), full_page=True)
    worker.join(timeout=120)
    page.wait_for_selector("button.promote", timeout=30000)  # the page reloads when training ends

    # A tiny training may be degenerate: then a dialog gives the reason and asks first.
    page.locator("button.promote").click()
    if page.locator("#promote-dialog[open]").count():
        page.click("#promote-anyway")
    page.wait_for_function("() => document.querySelector('.action-message').textContent.includes('now active')")
    # the scoring job's progress is shown after the promotion, to its end
    page.wait_for_function(
        "() => document.querySelector('.scoring-message').textContent.includes('succeeded')", timeout=30000
    )
    assert ModelVersion.objects.get(pk=v2.pk).status == "active"
    assert ModelVersion.objects.get(pk=v1.pk).status == "ready"

    page.goto(f"{live_server.url}/classifiers/versions/{v2.pk}/")
    assert page.locator("img[alt^='Reliability diagram']").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#metric-accuracy").inner_text()
    page.screenshot(path=str(ARTIFACTS / "classifiers-version.png"), full_page=True)

    page.goto(f"{live_server.url}/classifiers/")
    page.select_option(".compare-form select[name=a]", str(v1.pk))
    page.select_option(".compare-form select[name=b]", str(v2.pk))
    page.click(".compare-form button[type=submit]")
    page.wait_for_selector("table.compare")
    assert "macro F1" in page.locator("table.compare").inner_text()

    page.goto(f"{live_server.url}/classifiers/")
    page.click("button.rollback")
    page.wait_for_function("() => document.querySelector('.action-message').textContent.includes('now active')")
    page.wait_for_function(
        "() => document.querySelector('.scoring-message').textContent.includes('succeeded')", timeout=30000
    )
    assert ModelVersion.objects.get(pk=v1.pk).status == "active"

    cutout = Cutout.objects.get(survey=task.survey, name="src-05")
    page.goto(f"{live_server.url}/classifiers/explain/{cutout.pk}/?task=fr-browser")
    page.wait_for_selector("#explanation-image:not([hidden])", timeout=60000)
    page.wait_for_function("() => document.getElementById('explanation-image').naturalWidth > 0")
    assert page.locator("#explanation-prediction").inner_text().startswith("Prediction: FR")
    # made by a job (the page followed it), and only once
    assert Job.objects.filter(kind="explain_cutout", status="succeeded").count() == 1
    page.screenshot(path=str(ARTIFACTS / "classifiers-explanation.png"), full_page=True)
    assert not console_errors, console_errors


class _Sent:
    id = ""


def _work(job_id):
    """What a training worker does with the queued job (its own database connection, closed after)."""
    from django.db import connection

    try:
        job_run(job_id=job_id)
    finally:
        connection.close()
