"""The volunteer page in Debian Chromium, driven by Playwright (no downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest

from annotations.models import Classification
from tests.factories import make_workflow_with_subjects

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A returning volunteer: the first-visit tutorial has been seen in this browser.
TUTORIAL_SEEN = "try { localStorage.setItem('rgz.tutorialSeen', '1'); } catch (e) {}"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian Chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian Chromium is not installed (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(TUTORIAL_SEEN)
    page = context.new_page()
    yield page
    # Let the page's last requests finish before the test database is flushed under them.
    page.wait_for_load_state("networkidle")
    context.close()


def test_volunteer_classifies_three_cutouts(page, live_server):
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=5, name="Browser morphology")
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    seen = []
    for round_ in range(3):
        page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
        caption = page.locator("#subject-caption").inner_text()
        assert caption.startswith("Subject ") and "src-" not in caption  # neutral, no catalogue name
        seen.append(caption.split()[1])
        if round_ == 0:
            page.screenshot(path=str(ARTIFACTS / "classify.png"), full_page=True)
            # Image tools: stretch, invert and contours change the pixels on the canvas.
            before = page.evaluate("() => document.getElementById('sky').toDataURL()")
            page.select_option("#stretch", "linear")
            page.keyboard.press("i")
            after = page.evaluate("() => document.getElementById('sky').toDataURL()")
            assert before != after
        page.keyboard.press(str(round_ + 2))  # answers 1..3 by keyboard shortcut: FRI, FRII, Bent
        page.fill("#text-T1", f"<b>two lobes</b> round {round_}")
        page.check("input[name=T2][value=lobe]")
        page.click("#submit")
        # in tests the description is tagged in the request (eager tasks): the first loads the language model
        page.wait_for_function(f"() => document.getElementById('count').textContent === '{round_ + 1}'", timeout=60000)
    stored = list(Classification.objects.order_by("id"))
    assert len(stored) == 3
    assert len({c.subject_id for c in stored}) == 3
    assert [c.annotations[0]["value"] for c in stored] == [1, 2, 3]
    assert stored[0].annotations[1]["value"] == "<b>two lobes</b> round 0"
    assert stored[0].annotations[2]["value"] == ["lobe"]
    assert len(set(seen)) == 3
    assert not console_errors, console_errors


def test_required_question_is_enforced_in_the_page(page, live_server):
    workflow, _ = make_workflow_with_subjects(n=1, retirement=5, name="Browser required")
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=15000)
    page.click("#submit")
    assert "Please answer" in page.locator("#form-error").inner_text()
    assert Classification.objects.count() == 0


def test_page_waits_while_the_last_subject_is_leased_to_someone_else(page, live_server, settings):
    from annotations.queue import queue_next_subject
    from annotations.roles import Volunteer

    settings.RGZ_QUEUE_LEASE_SECONDS = 6
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=1, name="Browser leased")
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=Volunteer(None, "elsewhere")) is not None
    page.goto(f"{live_server.url}/classify/{workflow.pk}/")
    caption = page.locator("#subject-caption")
    page.wait_for_function(
        "() => document.getElementById('subject-caption').textContent.includes('being classified')", timeout=15000
    )
    assert "No subjects left" not in caption.inner_text()
    # The other volunteer never answers: once their lease runs out the page is served by itself.
    page.wait_for_function("() => !document.getElementById('submit').disabled", timeout=30000)
    assert caption.inner_text().startswith(f"Subject {cutouts[0].pk}")


def test_astronomer_signs_in_and_uploads_a_cutout_at_the_desk(page, live_server, tmp_path):
    from annotations.models import Cutout
    from tests.factories import astronomer, blob_array, fits_bytes

    astronomer("desk-user")
    good = tmp_path / "lobes.fits"
    good.write_bytes(fits_bytes(blob_array(48), ra=120.5, dec=-30.25))
    bad = tmp_path / "notes.fits"
    bad.write_text("not a FITS file at all")
    page.goto(f"{live_server.url}/desk/")
    page.fill("#id_username", "desk-user")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/desk/")
    page.fill("#up-survey", "EMU pilot")
    page.set_input_files("#up-file", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('upload-result').textContent.startsWith('Stored')")
    page.set_input_files("#up-file", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('upload-result').textContent.startsWith('Not stored')")
    assert "not a FITS, PNG or JPEG" in page.locator("#upload-result").inner_text()
    cutout = Cutout.objects.get()
    assert cutout.name == "lobes" and cutout.survey.name == "EMU pilot"
    assert abs(cutout.ra_deg - 120.5) < 0.01

    # order the survey's queue: by complexity works, by uncertainty needs a classifier task
    page.reload()
    row = page.locator("tr[data-survey='EMU pilot']")
    result = "tr[data-survey='EMU pilot'] .ranking-result"
    row.locator("select[name=by]").select_option("complexity")
    row.locator("button[type=submit]").click()
    page.wait_for_function(f"() => document.querySelector(\"{result}\").textContent.startsWith('Ranked')")
    assert "Ranked 1 cutouts" in row.locator(".ranking-result").inner_text()
    row.locator("select[name=by]").select_option("uncertainty")
    row.locator("button[type=submit]").click()
    page.wait_for_function(f"() => document.querySelector(\"{result}\").textContent.startsWith('Not changed')")
    assert "name the classifier task" in row.locator(".ranking-result").inner_text()
    page.screenshot(path=str(ARTIFACTS / "desk.png"), full_page=True)
    cutout.refresh_from_db()
    assert cutout.survey.queue_ranking == "complexity" and cutout.priority == 100.0


def test_astronomer_browses_anomalies_and_sends_one_to_the_queue(page, live_server, tmp_path):
    import numpy as np

    from annotations.models import SubjectWorkflowStatus
    from anomalies import services
    from tests.factories import astronomer, blob_array, fits_bytes

    field = np.random.default_rng(0).normal(0, 1e-4, (320, 320)).astype(np.float32)
    for k, (y, x) in enumerate([(40, 40), (200, 60), (120, 220)]):
        field[y : y + 64, x : x + 64] += blob_array(64, seed=k, lobes=k + 1) * 5
    mosaic = tmp_path / "m.fits"
    mosaic.write_bytes(fits_bytes(field, scale_arcsec=2.0))
    scan = services.scan_create(mosaic=str(mosaic), aperture_arcsec=60, stride_arcsec=30, top_percents=[10, 5])
    for tile in range(scan.tile_count):
        services.scan_tile_run(scan_id=scan.pk, index=tile)
    services.scan_finalize(scan_id=scan.pk)
    workflow, _ = make_workflow_with_subjects(n=1, name="Anomaly follow-up")
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(astronomer("scanner")), "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/scans/{scan.pk}/")
    assert page.locator(".gallery li").count() >= 2
    page.select_option("#workflow", str(workflow.pk))
    page.locator("button.to-queue").first.click()
    page.wait_for_function("() => document.getElementById('queue-result').textContent.startsWith('Added')")
    page.screenshot(path=str(ARTIFACTS / "anomalies.png"), full_page=True)
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow).count() == 2


def _session_for(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def test_astronomer_edits_retirement_rules_with_a_preview(page, live_server):
    from annotations.models import SubjectWorkflowStatus
    from annotations.roles import Volunteer
    from annotations.services import classification_create
    from tests.factories import astronomer

    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=20, name="Rules in the browser")
    for subject, answers in [(cutouts[0], [2, 2, 2]), (cutouts[1], [2, 1, 2]), (cutouts[2], [0, 1, 3])]:
        for who, answer in zip("abc", answers, strict=True):
            classification_create(
                workflow_id=workflow.pk,
                subject_id=subject.pk,
                volunteer=Volunteer(user_id=None, session_key=who),
                annotations=[{"task": "T0", "value": answer}],
            )
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(astronomer("rules")), "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/workflows/{workflow.pk}/retirement/")
    page.click("#add-consensus")
    page.locator("li.rule input[data-name=min_votes]").fill("3")
    page.locator("li.rule input[data-name=agreement]").fill("0.6")
    page.wait_for_function("() => document.getElementById('preview').textContent.includes('2 of 4 open subjects')")
    page.locator("li.rule input[data-name=agreement]").fill("0.9")
    page.wait_for_function("() => document.getElementById('preview').textContent.includes('1 of 4 open subjects')")
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=False).count() == 0
    page.check("#apply-now")
    page.click("#retirement-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('1 subjects retired')")
    assert page.locator(f"tr[data-subject='{cutouts[0].pk}']").count() == 0  # retired rows leave the table
    page.locator(f"button.retire-one[data-subject='{cutouts[2].pk}']").click()
    page.wait_for_function(f"() => !document.querySelector(\"tr[data-subject='{cutouts[2].pk}']\")")
    page.wait_for_function("() => document.getElementById('preview').textContent.includes('0 of 2 open subjects')")
    page.screenshot(path=str(ARTIFACTS / "retirement.png"), full_page=True)
    reasons = dict(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=False).values_list(
            "subject_id", "retirement_reason"
        )
    )
    assert reasons == {cutouts[0].pk: "consensus", cutouts[2].pk: "human"}
    workflow.refresh_from_db()
    assert workflow.retirement["rules"] == [
        {"kind": "consensus", "task": "T0", "min_votes": 3, "weighted": False, "agreement": 0.9}
    ]


def test_astronomer_sets_a_posterior_consensus_rule(page, live_server):
    from annotations.models import SubjectWorkflowStatus
    from annotations.roles import Volunteer
    from annotations.services import classification_create, expert_classification_create
    from tests.factories import astronomer

    fri, bent = 1, 3
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=20, name="Posterior rules")

    def vote(subject, who, answer):
        classification_create(
            workflow_id=workflow.pk,
            subject_id=subject.pk,
            volunteer=Volunteer(user_id=None, session_key=who),
            annotations=[{"task": "T0", "value": answer}],
        )

    # gold: true FRI sources draw FRI and Bent votes alike, true Bent sources only Bent votes
    gold = [(cutouts[0], fri), (cutouts[1], fri), (cutouts[2], bent), (cutouts[3], bent)]
    for (subject, truth), votes in zip(
        gold, [[fri, fri, bent, bent], [fri, bent] * 2, [bent] * 4, [bent] * 4], strict=True
    ):
        expert_classification_create(
            workflow=workflow, subject=subject, annotations=[{"task": "T0", "value": truth}], source="paper"
        )
        for i, answer in enumerate(votes):
            vote(subject, f"v{i}", answer)
    for who, answer in [("a", fri), ("b", bent), ("c", bent)]:
        vote(cutouts[4], who, answer)
    page.context.add_cookies(
        [{"name": "sessionid", "value": _session_for(astronomer("posterior")), "url": live_server.url}]
    )
    for width, height, name in [(1280, 900, "retirement_posterior.png"), (390, 844, "retirement_posterior_phone.png")]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/workflows/{workflow.pk}/retirement/")
        page.click("#add-consensus")
        rule = page.locator("li.rule").last
        rule.locator("input[data-name=min_votes]").fill("3")
        rule.locator("input[data-name=agreement]").fill("0.6")
        rule.locator("input[data-name=weighted]").check()
        page.wait_for_function("() => document.getElementById('preview').textContent.includes('would retire now')")
        rule.locator("select[data-name=method]").select_option("posterior")
        assert rule.locator("input[data-name=weighted]").is_disabled()
        assert not rule.locator("input[data-name=weighted]").is_checked()
        page.wait_for_function("() => document.getElementById('preview').textContent.includes('gold confusion')")
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.check("#apply-now")
    page.click("#retirement-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('save-result').textContent.includes('Saved')")
    workflow.refresh_from_db()
    assert workflow.retirement["rules"] == [
        {"kind": "consensus", "task": "T0", "min_votes": 3, "weighted": False, "agreement": 0.6, "method": "posterior"}
    ]
    # Bent has 2 of 3 votes, but one FRI vote outweighs them under the gold confusion: retired as consensus
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutouts[4])
    assert status.retired_at is not None and status.retirement_reason == "consensus"


def test_astronomer_pushes_and_pulls_with_progress_on_the_sync_page(page, live_server, settings):
    from annotations.task_definitions import demo_workflow_definition
    from tests.factories import astronomer
    from zooniverse.models import ZooniverseSubject
    from zooniverse.panoptes_standin import StandinServer, StandinState

    workflow, cutouts = make_workflow_with_subjects(n=3, name="Synced in the browser")
    state = StandinState(username="sync-bot", password="pw")
    with StandinServer(state) as server:
        settings.ZOONIVERSE_ENDPOINT, settings.ZOONIVERSE_USERNAME, settings.ZOONIVERSE_PASSWORD = (
            server.url,
            "sync-bot",
            "pw",
        )
        project = state.add_project("Browser project", "rgz/browser")
        tasks, strings = demo_workflow_definition()
        zworkflow = state.add_workflow(project, "Morphology", tasks=tasks, strings=strings)
        page.context.add_cookies(
            [{"name": "sessionid", "value": _session_for(astronomer("syncer")), "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/zooniverse/")
        page.select_option("#link-workflow", str(workflow.pk))
        page.fill("#link-project", project)
        page.fill("#link-zworkflow", zworkflow)
        page.fill("#link-every", "0")
        page.click("#link-form button[type=submit]")
        page.wait_for_selector("tr[data-link] button[data-action=push]")
        page.click("tr[data-link] button[data-action=push]")
        page.wait_for_function(
            "() => document.querySelector('tr[data-link] .job-state').textContent.includes('push: succeeded')"
        )
        assert page.locator("tr[data-link] .pushed").inner_text() == "3"
        assert page.locator("tr[data-link] .last-push").inner_text() != "never"
        subject = ZooniverseSubject.objects.get(cutout=cutouts[0])
        state.add_classification(
            workflow_id=zworkflow, subject_id=str(subject.zooniverse_id), user_name="v1",
            annotations=[{"task": "T0", "value": "FR I: brightest near the centre, fading jets"}],
        )  # fmt: skip
        page.click("tr[data-link] button[data-action=pull]")
        page.wait_for_function(
            "() => document.querySelector('tr[data-link] .job-state').textContent.includes('pull: succeeded')"
        )
        assert "1 created, 0 already there" in page.locator("tr[data-link] .job-state").inner_text()
        page.screenshot(path=str(ARTIFACTS / "zooniverse-sync.png"), full_page=True)
    assert len(state.resources["subjects"]) == 3
    assert Classification.objects.filter(workflow=workflow, source="zooniverse").count() == 1
