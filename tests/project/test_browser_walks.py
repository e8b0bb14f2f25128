"""One continuous walk per kind of user (volunteer, astronomer, admin) at a desktop and a phone
size, through the site's own links, checking what each action stored. Every page visited is
photographed into tests/artifacts/walk-<user>-<page>-<size>.png and checked for console errors
and for being wider than the screen."""

import pytest
from django.contrib.auth.models import User

from annotations.models import AcquisitionPolicy, Classification, Cutout, Workflow
from anomalies.models import Scan
from classifiers import services
from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from jobs.worker import run_job
from taxonomy.models import Tag
from tests.annotations.test_browser import TUTORIAL_SEEN, browser  # noqa: F401  (shared Chromium)
from tests.anomalies.test_scan_upload_and_map import _mosaic_bytes
from tests.classifiers.test_browser_classifiers import _Sent, seeded_task
from tests.classifiers.test_classifiers import TINY
from tests.explorer.conftest import browsable  # noqa: F401  (four labelled, scored, tagged cutouts)
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects
from tests.generative.test_realism import judged  # noqa: F401  (a generator version volunteers judged)
from tests.pages import scan_from_page
from tests.project.walks import WALK_SIZES, Walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = list(WALK_SIZES)
READY = "() => !document.getElementById('submit').disabled"


@pytest.mark.parametrize("size", SIZES)
def test_volunteer_walk(browser, live_server, size):  # noqa: F811
    workflow, _ = make_workflow_with_subjects(n=3, retirement=5, name="Walk morphology")
    walk = Walk(browser, live_server, "volunteer", size)
    page = walk.page
    page.goto(f"{live_server.url}/")  # the front door sends a volunteer to the open workflow
    page.wait_for_url(f"{live_server.url}/classify/{workflow.pk}/")

    # first visit: the tutorial, three steps, remembered
    page.locator("#tutorial").wait_for(state="visible")
    walk.check("tutorial")
    page.click("#tutorial-next")
    page.click("#tutorial-next")
    page.click("#tutorial-done")
    page.wait_for_function("() => localStorage.getItem('rgz.tutorialSeen') === '1'")
    assert not page.locator("#tutorial").is_visible()

    # two subjects answered and submitted
    answered = []
    for round_ in range(2):
        page.wait_for_function(READY, timeout=15000)
        answered.append(int(page.locator("#subject-caption").inner_text().split()[1]))
        if round_ == 0:
            walk.check("classify")
        page.locator(".task[data-task=T0] label.answer").nth(round_ + 1).click()
        page.click("#submit")
        page.wait_for_function(f"() => document.getElementById('count').textContent === '{round_ + 1}'")
    stored = list(Classification.objects.order_by("id"))
    assert [(c.subject_id, c.annotations[0]["value"]) for c in stored] == [(answered[0], 1), (answered[1], 2)]
    assert {c.volunteer_key.split(":")[0] for c in stored} == {"session"} and stored[0].user_id is None

    # what they answered, from the page's own link
    with page.expect_navigation():
        page.click("text=look again at them")
    assert page.locator("#recent li").count() == 2
    walk.check("recent")

    # signing up keeps the anonymous history
    walk.nav("Sign up")
    walk.check("signup")
    page.fill("#id_username", f"walker-{size}")
    page.fill("#id_password1", "radio lobes 1400 MHz")
    page.fill("#id_password2", "radio lobes 1400 MHz")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url == f"{live_server.url}/classify/recent/"
    user = User.objects.get(username=f"walker-{size}")
    assert set(Classification.objects.values_list("user_id", "volunteer_key")) == {(user.pk, f"user:{user.pk}")}
    assert page.locator("#recent li").count() == 2
    assert "FR II" in page.locator("#recent li").nth(0).inner_text()  # newest first
    walk.check("recent-signed-in")

    # back to classifying, signed in: the count carries over, no tutorial again
    walk.nav("Classify")
    page.wait_for_function(READY, timeout=15000)
    assert page.locator("#count").inner_text() == "2"
    assert not page.locator("#tutorial").is_visible()
    walk.check("classify-signed-in")
    walk.close()


@pytest.mark.parametrize("size", SIZES)
def test_astronomer_walk(browser, live_server, browsable, settings, tmp_path, size):  # noqa: F811
    settings.RGZ_SCAN_UPLOAD_DIR = tmp_path / "uploads"
    settings.RGZ_EXPORT_ROOT = tmp_path / "exports"
    settings.RGZ_IMPORT_ROOTS = []
    mosaic = tmp_path / "field-a.fits"
    mosaic.write_bytes(_mosaic_bytes())
    workflow, cutouts = browsable
    astronomer("walk-astro")
    candidate = Tag.objects.create(name="double lobes", support=6, example_cutouts=[cutouts[1].pk])
    walk = Walk(browser, live_server, "astronomer", size, init_script=TUTORIAL_SEEN)
    page = walk.page
    page.goto(f"{live_server.url}/")
    page.wait_for_url(f"{live_server.url}/classify/{workflow.pk}/")
    walk.sign_in("walk-astro")

    walk.nav("Astronomer desk")
    assert page.locator(f"tr[data-survey='{cutouts[0].survey.name}']").count() == 1
    walk.check("desk")

    # the data browser: filter, select the page, set a priority for the selection
    walk.nav("Browse")
    page.wait_for_function("() => document.querySelectorAll('#grid li').length === 4")
    walk.check("browse")
    if size == "phone":  # the filters start folded under one button
        page.click("#filter-toggle")
    page.select_option("#filters select[name=label]", "FRII")
    page.click("#filters button[type=submit]")
    page.wait_for_function("() => document.getElementById('browse-status').textContent === '2 cutouts match'")
    page.check("#select-page")
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.select_option("#bulk select[name=action]", "set_priority")
    page.fill("#bulk input[name=priority]", "42")
    page.click("#bulk button[type=submit]")
    page.wait_for_function("() => document.getElementById('bulk-result').textContent.startsWith('2 of 2 changed')")
    # the grid is loaded again with the new priorities
    page.wait_for_function("() => document.getElementById('browse-status').textContent === '2 cutouts match'")
    priorities = dict(Cutout.objects.values_list("pk", "priority"))
    assert [priorities[c.pk] for c in cutouts] == [None, 42, 42, None]
    walk.check("browse-filtered")

    # a cutout's page from its thumbnail; no similarity index is built in tests: the page's
    # request for similar cutouts is refused (409) and the page says so
    walk.allowed.append("status of 409")
    with page.expect_navigation():
        page.click(f"#grid li[data-cutout='{cutouts[1].pk}'] a.name")
    assert "42" in page.locator("#cutout-priority").inner_text()
    page.wait_for_function("() => document.getElementById('similar-status').textContent.includes('not available yet')")
    walk.check("cutout")
    walk.allowed.clear()

    # tag curation: approve a candidate
    walk.nav("Tags")
    page.locator("#tags tr[data-name='double lobes'] button[data-action=approve]").click()
    page.wait_for_function("() => !document.querySelector(\"#tags tr[data-name='double lobes']\")")
    candidate.refresh_from_db()
    assert candidate.status == Tag.Status.APPROVED
    walk.check("tags")

    # a mosaic uploaded from the scans page, then the scan's map of it
    walk.nav("Scans")
    walk.check("scans")
    scan_from_page(page, upload=mosaic, aperture="80", stride="40")
    scan = Scan.objects.get()
    assert scan.mosaic_name == "field-a.fits" and scan.aperture_arcsec == 80
    page.wait_for_selector(f"#scan-list tr[data-scan='{scan.pk}'] a", timeout=10000)
    walk.check("scans-uploaded")
    with page.expect_navigation():
        page.click(f"#scan-list tr[data-scan='{scan.pk}'] a")
    page.wait_for_selector("#scan-map")
    assert page.locator("#scan-map a.mark").count() == scan.entries.count() >= 2
    if size == "phone":  # the catalogue's levels and downloads are finger-sized, and still links
        boxes = [link.bounding_box() for link in page.locator("nav.levels a[href]").all()]
        assert len(boxes) == 5 and min(box["height"] for box in boxes) >= 44, boxes
    walk.check("scan-map")
    walk.nav("Zooniverse")
    walk.check("zooniverse")

    # the workflow's acquisition policy, from the desk
    walk.nav("Astronomer desk")
    with page.expect_navigation():
        page.locator(f"a[href='/workflows/{workflow.pk}/acquisition/']").click()
    page.wait_for_function("() => document.getElementById('preview-notes').textContent !== 'Loading…'")
    walk.check("acquisition")
    for name in ("complexity", "margin", "bald", "novelty"):
        page.fill(f"[data-weight-number={name}]", "0")
    page.fill("[data-weight-number=entropy]", "1")
    page.fill("#policy-note", "most uncertain first")
    page.click("#policy-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('Saved as policy 1')")
    policy = AcquisitionPolicy.objects.get(workflow=workflow, active=True)
    assert policy.policy["weights"]["entropy"] == 1.0 and policy.policy["weights"]["complexity"] == 0
    assert policy.note == "most uncertain first"
    page.fill("#synthetic-share", "0.2")
    page.click("#synthetic-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('synthetic-result').textContent.includes('20 %')")
    assert Workflow.objects.get(pk=workflow.pk).synthetic_share == pytest.approx(0.2)
    page.wait_for_function("() => document.querySelector('#preview-notes p') !== null")
    # the policy history, one card a policy on a phone, every field after its column's name
    saved = page.locator(f"#history tr[data-policy='{policy.pk}']")
    assert saved.locator("td").nth(2).get_attribute("data-label") == "Weights"
    assert "entropy 1" in saved.locator("td").nth(2).inner_text()
    if size == "phone":
        assert page.locator("#history").evaluate("t => t.scrollWidth <= t.clientWidth")
    walk.check("acquisition-saved")
    walk.close()


@pytest.fixture
def held_trainings(monkeypatch):
    """No training worker: a started training waits in the queue (other jobs run at once)."""
    held = []
    run_now = run_job.apply_async

    def hold(args, **options):
        if Job.objects.get(pk=args[0]).kind != services.TRAIN_JOB:
            return run_now(args=args, **options)
        held.append(args)
        return _Sent()

    monkeypatch.setattr(run_job, "apply_async", hold)
    return held


@pytest.mark.parametrize("size", SIZES)
def test_admin_walk(browser, live_server, judged, held_trainings, size):  # noqa: F811
    import torch

    torch.set_num_threads(1)
    generator, _ = judged
    task = seeded_task()
    v1 = services.training_start(task=task, epochs=1, labels="expert", overrides=TINY, send=False)
    job_run(job_id=v1.job.pk)  # one tiny finished training: a point on the learning curve, a pace
    metrics = ModelVersion.objects.get(pk=v1.pk).metrics
    # a version that calls everything FR II, its figures consistent with each other (62 % FR II);
    # the tiny run's own confusion plot would contradict them, so it is left out
    degenerate = {
        "classes": ["FRI", "FRII"],
        "precision": [0.0, 0.62],
        "recall": [0.0, 1.0],
        "f1": [0.0, 0.765],
        "accuracy": 0.62,
        "macro_f1": 0.38,
    }
    ModelVersion.objects.filter(pk=v1.pk).update(metrics={**metrics, **degenerate}, confusion_plot="")
    UserFactory(username="walk-admin", is_staff=True)
    walk = Walk(browser, live_server, "admin", size, init_script=TUTORIAL_SEEN)
    page = walk.page
    page.goto(f"{live_server.url}/")
    walk.sign_in("walk-admin")

    walk.nav("Classifiers")
    block = page.locator(".task-block[data-task=fr-browser]")
    page.wait_for_function("() => document.querySelector('.learning-curve').dataset.points === '1'")
    walk.check("classifiers")

    # promoting a degenerate version asks first, with the reason; keeping the current one changes nothing
    block.locator("button.promote").click()
    page.wait_for_selector("#promote-dialog[open]")
    assert "FRI recall is 0" in page.locator("#promote-dialog-reason").inner_text()
    walk.check("promote-warning")
    page.click("#promote-dialog button[value=cancel]")
    page.wait_for_function("() => document.querySelector('.action-message').textContent === 'Not promoted.'")
    assert ModelVersion.objects.get(pk=v1.pk).status == "ready"

    # a quick preset with a tiny step limit starts a job; Cancel stops it
    form = block.locator(".retrain-form")
    form.locator("select[name=preset]").select_option("5")
    form.locator("input[name=max_steps]").fill("3")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".live .cancel-training", timeout=15000)
    v2 = ModelVersion.objects.get(task=task, number=2)
    assert v2.config["epochs"] == 5 and v2.config["max_steps"] == 3 and held_trainings
    assert Job.objects.get(pk=v2.job_id).kind == services.TRAIN_JOB
    if size == "phone":  # the live epochs' six columns fit the phone without scrolling sideways
        assert page.locator(".live table.live-epochs").evaluate("t => t.scrollWidth <= t.clientWidth")
    walk.check("training-started")
    page.click(".live .cancel-training")
    page.wait_for_function("() => document.querySelector('.live .live-status').textContent === 'cancelled'")
    assert Job.objects.get(pk=v2.job_id).status == Job.Status.CANCELLED
    assert ModelVersion.objects.get(pk=v2.pk).status == "failed"
    assert block.locator(f"table.versions tr[data-version='{v2.pk}'] .status").inner_text() == "failed"
    # the Compare menus say so too, without a reload
    labels = block.locator(f".compare-form option[value='{v2.pk}']").all_inner_texts()
    assert labels == ["v2 (failed)", "v2 (failed)"], labels
    status = block.locator(f"table.versions tr[data-version='{v2.pk}'] td:has(.status)")
    assert status.get_attribute("data-label") == "Status" and status.get_attribute("role") == "cell"
    if size == "phone":  # one card a version, read without scrolling sideways
        assert block.locator("table.versions").evaluate("t => t.scrollWidth <= t.clientWidth")
    assert ModelVersion.objects.get(pk=v1.pk).status == "ready"
    walk.check("training-cancelled")

    # the version's own page from the versions table
    with page.expect_navigation():
        block.locator(f"a[href='/classifiers/versions/{v1.pk}/']").first.click()
    walk.check("classifier-version")

    # the generator registry, then a version's realism as volunteers judged it
    walk.nav("Generators")
    walk.check("generators")
    with page.expect_navigation():
        page.locator(f"a[href='/generative/versions/{generator.pk}/']").first.click()
    assert "Realism, judged by volunteers" in page.locator("main").inner_text()
    # still a table to assistive technology, every figure labelled with its column
    realism = page.locator("table.realism-table")
    assert realism.get_attribute("role") == "table"
    assert page.get_by_role("rowheader", name="FRI", exact=True).count() == 1
    first = realism.locator("tbody tr[data-class=FRI] td").first
    assert first.get_attribute("data-label") == "Judged real: generated"
    if size == "phone":  # one card a class, read without scrolling sideways
        assert realism.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
        assert first.evaluate("td => getComputedStyle(td, '::before').content") == '"Judged real: generated"'
    walk.check("generator-realism")

    walk.nav("Admin")
    walk.check("django-admin")
    walk.close()
