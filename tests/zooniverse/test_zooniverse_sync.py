"""Push and pull through the real panoptes-client against the project's Panoptes stand-in on loopback."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout, SubjectWorkflowStatus
from annotations.services import cutout_set_priority
from annotations.task_definitions import demo_workflow_definition
from jobs.models import Job
from jobs.runner import job_run
from tests.factories import astronomer, make_workflow_with_subjects
from zooniverse import sync
from zooniverse.client import ZooniverseUnavailable
from zooniverse.models import ZooniverseLink, ZooniverseSubject
from zooniverse.panoptes_standin import StandinServer, StandinState

pytestmark = pytest.mark.django_db

FRII = "FR II: brightest at the ends of the lobes"
FRI = "FR I: brightest near the centre, fading jets"


@pytest.fixture
def standin(settings):
    state = StandinState(username="sync-bot", password="a-test-password")
    with StandinServer(state) as server:
        settings.ZOONIVERSE_ENDPOINT = server.url
        settings.ZOONIVERSE_USERNAME = "sync-bot"
        settings.ZOONIVERSE_PASSWORD = "a-test-password"
        settings.ZOONIVERSE_CLIENT_SECRET = ""
        yield server


@pytest.fixture
def linked(standin):
    """A platform workflow with 5 ranked subjects, linked to a project workflow on the stand-in."""
    workflow, cutouts = make_workflow_with_subjects(n=5, retirement=10, name="Synced morphology")
    for rank, cutout in enumerate(cutouts):
        cutout_set_priority(cutout=cutout, priority=float(rank))  # the last cutout is served first
    state = standin.state
    project = state.add_project("EMU pilot", "rgz/emu-pilot")
    tasks, strings = demo_workflow_definition()
    zooniverse_workflow = state.add_workflow(project, "Morphology", tasks=tasks, strings=strings, version="1.1")
    link = sync.link_create(workflow=workflow, project_id=int(project), zooniverse_workflow_id=int(zooniverse_workflow))
    return link, cutouts


def test_push_creates_uploads_and_links_subjects_with_hidden_ids_and_ranks(standin, linked):
    link, cutouts = linked
    report = sync.sync_push(link_id=link.pk)
    state = standin.state
    assert report.created == 5 and report.extra["priorities_updated"] == 5
    link.refresh_from_db()
    subjects = state.resources["subjects"]
    assert len(subjects) == 5
    assert state.members[str(link.subject_set_id)] == sorted(subjects, key=int)
    assert (
        str(link.subject_set_id)
        in state.resources["workflows"][str(link.zooniverse_workflow_id)]["links"]["subject_sets"]
    )
    by_cutout = {s["metadata"]["#rgz_cutout_id"]: s for s in subjects.values()}
    assert set(by_cutout) == {c.pk for c in cutouts}
    # Served first on the platform (highest priority) = lowest #priority, served first by Zooniverse.
    assert [by_cutout[c.pk]["metadata"]["#priority"] for c in cutouts] == [0, -1, -2, -3, -4]
    for cutout in cutouts:
        with cutout.image.open("rb") as handle:
            assert state.media[by_cutout[cutout.pk]["id"]] == handle.read()
    # The sign-in flow ran and every PUT carried the ETag of the GET before it.
    assert state.requests("POST", r"^/users/sign_in$") and state.requests("POST", r"^/oauth/token$")
    puts = state.requests("PUT", r"^/api/subjects/")
    assert len(puts) == 5 and all(entry[2] == 200 and entry[3] for entry in puts)
    assert ZooniverseSubject.objects.filter(link=link, uploaded=True, in_subject_set=True).count() == 5

    again = sync.sync_push(link_id=link.pk)  # nothing new: nothing made twice
    assert again.created == 0 and again.extra["priorities_updated"] == 0 and len(state.resources["subjects"]) == 5


def test_a_ranking_change_updates_only_the_moved_priorities(standin, linked):
    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    assert sync.links_with_new_ranking() == []
    cutout_set_priority(cutout=cutouts[0], priority=100.0)  # the last becomes the first
    assert [moved.pk for moved in sync.links_with_new_ranking()] == [link.pk]
    before = len(standin.state.requests("PUT", r"^/api/subjects/"))
    report = sync.sync_push(link_id=link.pk)
    assert report.extra["priorities_updated"] == 1  # a subject's #priority depends on its own priority only
    metadata = {s["metadata"]["#rgz_cutout_id"]: s["metadata"] for s in standin.state.resources["subjects"].values()}
    assert metadata[cutouts[0].pk]["#priority"] == -100 and metadata[cutouts[-1].pk]["#priority"] == -4
    assert len(standin.state.requests("PUT", r"^/api/subjects/")) == before + 1
    cutout_set_priority(cutout=cutouts[2], priority=None)  # unranked: served last
    assert sync.sync_push(link_id=link.pk).extra["priorities_updated"] == 1
    metadata = {s["metadata"]["#rgz_cutout_id"]: s["metadata"] for s in standin.state.resources["subjects"].values()}
    assert metadata[cutouts[2].pk]["#priority"] == sync.UNRANKED_ON_ZOONIVERSE


def test_a_5xx_mid_push_keeps_what_was_done_and_the_next_push_resumes(standin, linked, settings):
    link, _ = linked
    state = standin.state
    # Two subjects go through, then Zooniverse answers 503 for longer than the client retries.
    state.fail_next("POST", r"^/api/subjects$", status=503, times=settings.ZOONIVERSE_RETRY_ATTEMPTS, after=2)
    with pytest.raises(ZooniverseUnavailable, match="503"):
        sync.sync_push(link_id=link.pk)
    assert len(state.resources["subjects"]) == 2
    assert ZooniverseSubject.objects.filter(link=link).count() == 2  # recorded as they were made
    report = sync.sync_push(link_id=link.pk)
    assert report.created == 3
    assert len(state.resources["subjects"]) == 5
    assert ZooniverseSubject.objects.filter(link=link, uploaded=True, in_subject_set=True).count() == 5


def test_a_failed_upload_is_retried_by_the_next_push(standin, linked):
    link, cutouts = linked
    standin.state.fail_next("PUT", r"^/uploads/", status=500, times=1)
    with pytest.raises(ZooniverseUnavailable, match="upload"):
        sync.sync_push(link_id=link.pk)
    stuck = ZooniverseSubject.objects.get(link=link, uploaded=False)
    assert stuck.upload_url
    report = sync.sync_push(link_id=link.pk)
    assert report.extra["uploads_resumed"] == 1
    assert len(standin.state.media) == 5 and len(standin.state.resources["subjects"]) == 5


def test_pull_imports_a_fresh_export_once_and_then_only_new_rows(standin, linked, settings):
    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    state = standin.state
    zid = {row.cutout_id: str(row.zooniverse_id) for row in ZooniverseSubject.objects.filter(link=link)}
    workflow_id = str(link.zooniverse_workflow_id)
    for user, answer in [("ann", FRII), ("bob", FRII), ("cy", FRI)]:
        state.add_classification(
            workflow_id=workflow_id,
            subject_id=zid[cutouts[0].pk],
            user_name=user,
            annotations=[{"task": "T0", "value": answer}, {"task": "T1", "value": f"{user}: two lobes"}],
        )
    report = sync.sync_pull(link_id=link.pk)
    assert report.created == 3 and report.failed == 0
    rows = Classification.objects.filter(workflow=link.workflow, source="zooniverse")
    assert rows.count() == 3 and {r.subject_id for r in rows} == {cutouts[0].pk}
    assert not any("ann" in r.volunteer_key for r in rows)  # pseudonymous
    status = SubjectWorkflowStatus.objects.get(workflow=link.workflow, subject=cutouts[0])
    assert status.classification_count == 3
    assert state.requests("GET", r"/classifications_export$")  # polled until ready

    state.add_classification(
        workflow_id=workflow_id,
        subject_id=zid[cutouts[1].pk],
        user_name="dee",
        annotations=[{"task": "T0", "value": FRI}],
    )
    again = sync.sync_pull(link_id=link.pk)
    assert again.created == 1 and again.skipped == 3
    for _ in range(sync.KEEP_PULLS):
        assert sync.sync_pull(link_id=link.pk).created == 0
    kept = list((Path(settings.MEDIA_ROOT) / "zooniverse" / "pulls").glob(f"link-{link.pk}-*.csv"))
    assert len(kept) == sync.KEEP_PULLS
    link.refresh_from_db()
    assert link.last_pull_at is not None


def test_pull_applies_retirement_rules_and_the_push_retires_on_zooniverse(standin, linked):
    from annotations.retirement import workflow_retirement_update

    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    workflow_retirement_update(
        workflow=link.workflow,
        retirement={"options": {"count": 10}, "rules": [{"kind": "consensus", "task": "T0", "min_votes": 3}]},
    )
    zid = ZooniverseSubject.objects.get(link=link, cutout=cutouts[0]).zooniverse_id
    for user in ("a", "b", "c"):
        standin.state.add_classification(
            workflow_id=str(link.zooniverse_workflow_id), subject_id=str(zid), user_name=user,
            annotations=[{"task": "T0", "value": FRII}],
        )  # fmt: skip
    report = sync.sync_pull(link_id=link.pk)
    assert report.extra["retired_by_rules"] == 1
    assert SubjectWorkflowStatus.objects.get(workflow=link.workflow, subject=cutouts[0]).retirement_reason == (
        "consensus"
    )
    push = sync.sync_push(link_id=link.pk)
    assert push.extra["retired_on_zooniverse"] == 1
    assert standin.state.retired[str(link.zooniverse_workflow_id)] == {str(zid): "consensus"}


def test_a_5xx_on_the_export_leaves_nothing_half_imported(standin, linked, settings):
    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    zid = ZooniverseSubject.objects.get(link=link, cutout=cutouts[0]).zooniverse_id
    standin.state.add_classification(
        workflow_id=str(link.zooniverse_workflow_id), subject_id=str(zid), user_name="a",
        annotations=[{"task": "T0", "value": FRI}],
    )  # fmt: skip
    standin.state.fail_next("POST", r"classifications_export$", status=502)  # the client does not retry POSTs
    job = Job.objects.create(kind=sync.PULL_JOB, parameters={"link_id": link.pk})
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "502" in job.message
    assert Classification.objects.filter(source="zooniverse").count() == 0
    assert sync.sync_pull(link_id=link.pk).created == 1  # the next pull goes through


def test_wrong_credentials_fail_with_a_clear_message(standin, linked, settings):
    link, _ = linked
    settings.ZOONIVERSE_PASSWORD = "wrong"
    with pytest.raises(ZooniverseUnavailable, match="Invalid login or password"):
        sync.sync_push(link_id=link.pk)
    settings.ZOONIVERSE_USERNAME = ""
    with pytest.raises(ZooniverseUnavailable, match="no Zooniverse credentials"):
        sync.sync_push(link_id=link.pk)
    assert ZooniverseSubject.objects.count() == 0


def test_an_unreachable_zooniverse_is_reported(linked_offline):
    link = linked_offline
    with pytest.raises(ZooniverseUnavailable, match="could not be reached"):
        sync.sync_pull(link_id=link.pk)


@pytest.fixture
def linked_offline(settings):
    workflow, _ = make_workflow_with_subjects(n=1, name="Offline")
    settings.ZOONIVERSE_USERNAME, settings.ZOONIVERSE_PASSWORD = "x", "y"
    settings.ZOONIVERSE_ALLOWED_ENDPOINTS = ["http://127.0.0.1:9"]
    return sync.link_create(workflow=workflow, project_id=1, zooniverse_workflow_id=2, endpoint="http://127.0.0.1:9")


def test_links_refuse_duplicates(linked):
    link, _ = linked
    with pytest.raises(Exception, match="already linked"):
        sync.link_create(workflow=link.workflow, project_id=1, zooniverse_workflow_id=99)
    other, _ = make_workflow_with_subjects(n=1, name="Another", survey_name="another")
    with pytest.raises(Exception, match="already feeds"):
        sync.link_create(workflow=other, project_id=1, zooniverse_workflow_id=link.zooniverse_workflow_id)


def test_the_schedule_starts_due_pulls_once_and_pushes_after_a_ranking_change(
    standin, linked, django_capture_on_commit_callbacks
):
    from zooniverse.tasks import sync_due

    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    with django_capture_on_commit_callbacks(execute=True):
        started = sync_due()
    assert len(started) == 1 and Job.objects.get(pk=started[0]).kind == sync.PULL_JOB
    assert Job.objects.get(pk=started[0]).status == Job.Status.SUCCEEDED  # eager in unit tests
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_due() == []  # not due again for an hour; ranking unchanged
    cutout_set_priority(cutout=cutouts[1], priority=50.0)
    with django_capture_on_commit_callbacks(execute=True):
        started = sync_due()
    assert [Job.objects.get(pk=j).kind for j in started] == [sync.PUSH_JOB]
    assert (
        standin.state.resources["subjects"][str(ZooniverseSubject.objects.get(cutout=cutouts[1]).zooniverse_id)][
            "metadata"
        ]["#priority"]
        == -50
    )


def test_api_and_commands(standin, linked, django_capture_on_commit_callbacks):
    link, _ = linked
    api = APIClient()
    assert api.get(reverse("api-zooniverse-links")).status_code in (401, 403)
    api.force_authenticate(astronomer())
    listed = api.get(reverse("api-zooniverse-links")).json()
    assert listed[0]["id"] == link.pk and listed[0]["pushed_subjects"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(reverse("api-zooniverse-link-sync", args=[link.pk, "push"]))
    assert started.status_code == 202
    assert Job.objects.get(pk=started.json()["id"]).status == Job.Status.SUCCEEDED
    assert api.get(reverse("api-zooniverse-link", args=[link.pk])).json()["pushed_subjects"] == 5
    assert api.post(reverse("api-zooniverse-link-sync", args=[link.pk, "dance"])).status_code == 400
    bad = api.post(
        reverse("api-zooniverse-links"),
        {"workflow": link.workflow_id, "project_id": 1, "zooniverse_workflow_id": 5},
        format="json",
    )
    assert bad.status_code == 409 and "already linked" in bad.json()["detail"]
    call_command("zooniverse_sync", "pull", "--link", str(link.pk), "--inline")
    assert ZooniverseLink.objects.get(pk=link.pk).last_pull_at is not None
    with pytest.raises(CommandError, match="does not exist"):
        call_command("zooniverse_sync", "pull", "--link", "9999", "--inline")


def test_placeholders_are_not_made_for_pushed_subjects(standin, linked):
    link, cutouts = linked
    sync.sync_push(link_id=link.pk)
    zid = ZooniverseSubject.objects.get(link=link, cutout=cutouts[4]).zooniverse_id
    standin.state.add_classification(
        workflow_id=str(link.zooniverse_workflow_id), subject_id=str(zid), user_name="e",
        annotations=[{"task": "T0", "value": FRII}],
    )  # fmt: skip
    before = Cutout.objects.count()
    sync.sync_pull(link_id=link.pk)
    assert Cutout.objects.count() == before


def test_the_standin_speaks_panoptes(standin):
    """The protocol details the client relies on, checked at the HTTP level."""
    import requests

    state = standin.state
    project = state.add_project("Protocol", "rgz/protocol")
    api = f"{standin.url}/api"
    headers = {"Accept": "application/vnd.api+json; version=1", "Content-Type": "application/json"}
    reply = requests.get(f"{api}/projects/{project}", headers=headers, timeout=5)
    assert reply.status_code == 200 and reply.headers["ETag"]
    assert reply.json()["projects"][0]["id"] == project  # string ids in a JSON:API envelope
    assert (
        requests.get(f"{api}/projects", params={"slug": "rgz/protocol"}, timeout=5).json()["meta"]["projects"][
            "page_count"
        ]
        == 1
    )
    body = {"subject_sets": {"display_name": "x", "links": {"project": project}}}
    assert requests.post(f"{api}/subject_sets", json=body, headers=headers, timeout=5).status_code == 401
    session = requests.Session()
    csrf = session.get(f"{standin.url}/users/sign_in", timeout=5).headers["x-csrf-token"]
    login = {"authenticity_token": csrf, "user": {"login": "sync-bot", "password": "a-test-password"}}
    assert session.post(f"{standin.url}/users/sign_in", json=login, timeout=5).json()["users"][0]["id"] == "42"
    token = session.post(f"{standin.url}/oauth/token", data={"grant_type": "password"}, timeout=5).json()
    auth = {**headers, "Authorization": f"Bearer {token['access_token']}"}
    created = requests.post(f"{api}/subject_sets", json=body, headers=auth, timeout=5)
    set_id = created.json()["subject_sets"][0]["id"]
    etag = requests.get(f"{api}/subject_sets/{set_id}", headers=auth, timeout=5).headers["ETag"]
    change = {"subject_sets": {"display_name": "renamed"}}
    stale = requests.put(f"{api}/subject_sets/{set_id}", json=change, headers={**auth, "If-Match": '"old"'}, timeout=5)
    assert stale.status_code == 412 and "If-Match" in stale.json()["errors"][0]["message"]
    fresh = requests.put(f"{api}/subject_sets/{set_id}", json=change, headers={**auth, "If-Match": etag}, timeout=5)
    assert fresh.status_code == 200 and fresh.json()["subject_sets"][0]["display_name"] == "renamed"
    assert requests.get(f"{api}/nonsense/1", timeout=5).status_code == 404


def test_client_credentials_sign_in(standin, linked, settings):
    link, _ = linked
    standin.state.client_id, standin.state.client_secret = "rgz-app", "app-secret"
    settings.ZOONIVERSE_USERNAME = settings.ZOONIVERSE_PASSWORD = ""
    settings.ZOONIVERSE_CLIENT_ID, settings.ZOONIVERSE_CLIENT_SECRET = "rgz-app", "app-secret"
    assert sync.sync_push(link_id=link.pk).created == 5
    assert not standin.state.requests("POST", r"^/users/sign_in$")  # no user sign-in with client credentials


def test_links_only_use_configured_endpoints(standin, settings):
    """The platform signs in with its own credentials wherever a link points: no free addresses."""
    workflow, _ = make_workflow_with_subjects(n=1, name="Elsewhere")
    with pytest.raises(Exception, match="not a configured Panoptes endpoint"):
        sync.link_create(workflow=workflow, project_id=1, zooniverse_workflow_id=3, endpoint="http://attacker.example")
    api = APIClient()
    api.force_authenticate(astronomer())
    body = {"workflow": workflow.pk, "project_id": 1, "zooniverse_workflow_id": 3, "endpoint": "http://evil.example"}
    refused = api.post(reverse("api-zooniverse-links"), body, format="json")
    assert refused.status_code == 400 and "not a configured" in refused.json()["detail"]
    assert not ZooniverseLink.objects.filter(workflow=workflow).exists()
    link = sync.link_create(workflow=workflow, project_id=1, zooniverse_workflow_id=3)
    ZooniverseLink.objects.filter(pk=link.pk).update(endpoint="http://evil.example")  # settings changed since
    with pytest.raises(ZooniverseUnavailable, match="not a configured"):
        sync.sync_push(link_id=link.pk)
    assert not standin.state.requests()  # no credentials sent anywhere


def test_one_push_or_pull_at_a_time_per_link(standin, linked, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from core.errors import Conflict

    link, _ = linked
    ZooniverseLink.objects.filter(pk=link.pk).update(busy_since=timezone.now(), busy_with="push")
    with pytest.raises(Conflict, match="push of this link is running"):
        sync.sync_push(link_id=link.pk)
    with pytest.raises(Conflict):
        sync.sync_pull(link_id=link.pk)
    assert not standin.state.requests("POST")  # nothing was sent
    # A claim left by a worker that died long ago does not block for ever.
    ZooniverseLink.objects.filter(pk=link.pk).update(busy_since=timezone.now() - timezone.timedelta(days=2))
    assert sync.sync_push(link_id=link.pk).created == 5
    assert ZooniverseLink.objects.get(pk=link.pk).busy_since is None
    Job.objects.create(kind=sync.PUSH_JOB, parameters={"link_id": link.pk})  # queued, not yet taken
    api = APIClient()
    api.force_authenticate(astronomer())
    second = api.post(reverse("api-zooniverse-link-sync", args=[link.pk, "push"]))
    assert second.status_code == 409 and "already queued or running" in second.json()["detail"]


def test_subjects_zooniverse_already_has_are_not_pushed_again(standin, linked):
    link, cutouts = linked
    ZooniverseSubject.objects.create(zooniverse_id=777, cutout=cutouts[0], matched_by="file name")  # from an import
    assert sync.sync_push(link_id=link.pk).created == 4
