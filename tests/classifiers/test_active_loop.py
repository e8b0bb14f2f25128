"""The self-running active-learning loop: a round starts at N new consensus labels (not before),
triggers coalesce into one round per survey, a failed round keeps the earlier version and ranks,
a round pushes #priority to the linked Zooniverse project, and the learning-curve endpoint."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Cutout, SubjectWorkflowStatus
from annotations.services import classification_create
from annotations.task_definitions import demo_workflow_definition
from classifiers import active_loop, active_round, promotion, services
from classifiers import jobs as classifier_jobs
from classifiers.models import ModelVersion
from jobs.models import Job
from jobs.runner import job_run
from tests.classifiers.test_classifiers import FRII, labelled_task, train_version  # noqa: F401  (fixture)
from tests.factories import UserFactory, astronomer
from zooniverse import sync
from zooniverse.panoptes_standin import StandinServer, StandinState

pytestmark = pytest.mark.django_db
ENTROPY_ONLY = {"weights": {"entropy": 1.0}, "exploration": 0.0, "diversity": False}


def _noop(done, total, message=""):
    pass


@pytest.fixture(autouse=True)
def _round_settings(settings):
    settings.RGZ_ACTIVE_ROUND_EPOCHS = 1
    settings.RGZ_ACTIVE_RETRAIN_AFTER = 2


@pytest.fixture
def looped(labelled_task):  # noqa: F811
    """The task with v1 trained, promoted and scored; its workflow ranked by an entropy policy."""
    task = labelled_task
    v1 = train_version(task)
    assert v1.status == ModelVersion.Status.READY, v1.error
    promotion.version_promote(version=v1)
    classifier_jobs.score_cutouts(version_id=v1.pk, progress=_noop)
    _, rank_job = services.acquisition_policy_set(workflow=task.workflow, values=ENTROPY_ONLY, task_name=task.name)
    job_run(job_id=rank_job.pk)
    return task, ModelVersion.objects.get(pk=v1.pk)


def ranks(workflow) -> dict[int, tuple]:
    rows = SubjectWorkflowStatus.objects.filter(workflow=workflow)
    return {row.subject_id: (row.priority, row.rank_model_version) for row in rows}


def vote(task, name: str, volunteers, times: int = 3) -> None:
    """``times`` volunteers answer FRII for a cutout; the on-commit work runs as a worker would."""
    cutout = Cutout.objects.get(survey=task.survey, name=name)
    for _ in range(times):
        with TestCase.captureOnCommitCallbacks(execute=True):
            classification_create(
                workflow_id=task.workflow_id,
                subject_id=cutout.pk,
                volunteer=volunteers(),
                annotations=[{"task": "T0", "value": FRII}],
            )


def rounds() -> list[Job]:
    return list(Job.objects.filter(kind=active_loop.ROUND_JOB).order_by("created_at"))


def test_a_round_starts_at_n_new_consensus_labels_not_before_and_warm_starts(looped, volunteer_factory, settings):
    task, v1 = looped
    vote(task, "src-13", volunteer_factory)  # one new consensus label: below N = 2
    assert rounds() == []
    assert active_loop.loop_state(survey=task.survey).new_labels == {task.name: 1}
    vote(task, "src-15", volunteer_factory, times=2)  # two votes: no consensus label yet
    assert rounds() == []
    vote(task, "src-15", volunteer_factory, times=1)  # the second label: the round starts and runs
    [job] = rounds()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.parameters == {"survey_id": task.survey_id, "trigger": "new consensus labels"}
    assert [phase["name"] for phase in job.result["phases"]] == list(active_round.PHASES)
    v2 = ModelVersion.objects.get(task=task, number=2)
    assert v2.status == ModelVersion.Status.ACTIVE and v2.warm_start_from_id == v1.pk
    assert v2.config["epochs"] == 1 and v2.config["network"] == v1.config["network"]
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.READY
    # rescored by v2, and the queue re-ranked with v2's scores: no stale rank left
    scored = Cutout.objects.filter(survey=task.survey).values_list("model_scores", flat=True)
    assert {entry[task.name]["version_id"] for entry in scored} == {v2.pk}
    open_ranks = {mv for (_, mv) in ranks(task.workflow).values() if mv is not None}
    assert open_ranks == {v2.pk}
    assert active_loop.loop_state(survey=task.survey).new_labels == {task.name: 0}  # counted from v2's training

    settings.RGZ_ACTIVE_RETRAIN_AFTER = 0  # the loop off: labels start nothing
    vote(task, "src-12", volunteer_factory)
    vote(task, "src-14", volunteer_factory)
    assert len(rounds()) == 1


def test_a_second_trigger_while_a_round_is_queued_or_running_joins_it(looped):
    task, _ = looped
    job, new = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    again, new_again = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    assert new and not new_again and again.pk == job.pk
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    assert active_loop.active_round_if_due(survey=task.survey).pk == job.pk  # joined, not counted again
    assert len(rounds()) == 1
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    later, new_later = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    assert new_later and later.pk != job.pk


def test_a_failed_training_keeps_the_active_version_and_the_ranks(looped, monkeypatch):
    task, v1 = looped
    before = ranks(task.workflow)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr("classifiers.ml.fit_and_evaluate", out_of_memory)
    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "out of memory" in job.message and "v1 stays active" in job.message
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.get(task=task, number=2).status == ModelVersion.Status.FAILED
    assert ranks(task.workflow) == before


def test_a_failure_while_rescoring_reinstates_the_earlier_version_before_any_rerank(looped, monkeypatch):
    task, v1 = looped
    before = ranks(task.workflow)

    def broken(*args, **kwargs):
        raise ValueError("NaN in the logits")

    monkeypatch.setattr("classifiers.ml.scores", broken)
    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "earlier versions are active again" in job.message
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.get(task=task, number=2).status == ModelVersion.Status.READY
    assert ranks(task.workflow) == before


def test_a_degenerate_version_is_not_promoted_over_a_sound_one(looped, monkeypatch):
    task, v1 = looped
    before = ranks(task.workflow)

    def warnings(version):
        return [] if version.pk == v1.pk else ["FRI recall is 0: it never predicts FRI correctly"]

    monkeypatch.setattr("classifiers.active_round.version_warnings", warnings)
    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "v2 is not promoted: FRI recall is 0" in job.message
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.get(task=task, number=2).status == ModelVersion.Status.READY
    assert ranks(task.workflow) == before


def test_an_abandoned_round_hands_back_to_the_fully_scored_version(looped):
    task, v1 = looped
    v2 = active_round.round_version_create(task=task, previous=v1)
    # the worker died after promoting v2 (weights stand in) and before it had rescored every cutout
    ModelVersion.objects.filter(pk=v2.pk).update(status=ModelVersion.Status.READY, weights=v1.weights.name)
    ModelVersion.objects.filter(pk=v1.pk).update(status=ModelVersion.Status.READY)
    ModelVersion.objects.filter(pk=v2.pk).update(status=ModelVersion.Status.ACTIVE)
    v3 = active_round.round_version_create(task=task, previous=v1)  # and was training another
    active_round.round_abandoned(survey_id=task.survey_id, message="the worker died")
    assert ModelVersion.objects.get(pk=v1.pk).status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.get(pk=v2.pk).status == ModelVersion.Status.READY
    failed = ModelVersion.objects.get(pk=v3.pk)
    assert failed.status == ModelVersion.Status.FAILED and failed.error == "the worker died"


def test_a_round_without_an_active_version_is_refused(labelled_task):  # noqa: F811
    with pytest.raises(Exception, match="no classifier task of fr-survey has an active version"):
        active_loop.active_round_start(survey=labelled_task.survey, trigger="by hand", send=False)


@pytest.fixture
def standin(settings):
    state = StandinState(username="sync-bot", password="a-test-password")
    with StandinServer(state) as server:
        settings.ZOONIVERSE_ENDPOINT = server.url
        settings.ZOONIVERSE_USERNAME = "sync-bot"
        settings.ZOONIVERSE_PASSWORD = "a-test-password"
        settings.ZOONIVERSE_CLIENT_SECRET = ""
        yield server


def test_a_round_pushes_the_new_ranks_as_priority_to_the_linked_project(looped, standin):
    task, _ = looped
    state = standin.state
    project = state.add_project("EMU pilot", "rgz/emu-pilot")
    tasks, strings = demo_workflow_definition()
    zooniverse_workflow = state.add_workflow(project, "Morphology", tasks=tasks, strings=strings, version="1.1")
    link = sync.link_create(
        workflow=task.workflow, project_id=int(project), zooniverse_workflow_id=int(zooniverse_workflow)
    )
    SubjectWorkflowStatus.objects.filter(workflow=task.workflow).update(priority=0.0)  # flat before the round
    sync.sync_push(link_id=link.pk)
    puts_before = len(state.requests("PUT", r"^/api/subjects/"))
    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    push = next(phase for phase in job.result["phases"] if phase["name"] == "push")
    assert "#priority values pushed" in push["detail"]
    assert len(state.requests("PUT", r"^/api/subjects/")) > puts_before
    held = {s["metadata"]["#rgz_cutout_id"]: s["metadata"]["#priority"] for s in state.resources["subjects"].values()}
    for status in SubjectWorkflowStatus.objects.filter(workflow=task.workflow, retired_at__isnull=True):
        assert held[status.subject_id] == sync.zooniverse_priority(status.priority)
    assert len(set(held.values())) > 1  # the round's ranks, not the flat ones


def test_learning_curve_endpoint_gives_each_version_and_the_round(looped):
    task, v1 = looped
    url = reverse("api-classifier-learning-curve", args=[task.name])
    job, _ = active_loop.active_round_start(survey=task.survey, trigger="by hand", send=False)
    job_run(job_id=job.pk)
    ModelVersion.objects.create(task=task, number=9, status=ModelVersion.Status.FAILED)  # never on the curve
    api = APIClient()
    api.force_authenticate(astronomer())
    body = api.get(url).json()
    assert body["task"] == task.name and body["survey"] == "fr-survey" and body["threshold"] == 2
    assert [p["number"] for p in body["points"]] == [1, 2]
    first, second = body["points"]
    assert first["warm_start_from"] is None and second["warm_start_from"] == 1
    assert second["status"] == "active" and 0 <= second["accuracy"] <= 1
    assert first["labels"] == v1.metrics["n_train"] and second["labels"] >= 1
    assert set(first) == {"version", "number", "status", "labels", "accuracy", "split", "trained_at", "warm_start_from"}
    assert body["round"]["id"] == str(job.pk) and body["round"]["status"] == "succeeded"
    assert [phase["name"] for phase in body["round"]["phases"]] == list(active_round.PHASES)

    volunteer = APIClient()
    volunteer.force_authenticate(UserFactory(username="volunteer"))
    assert volunteer.get(url).status_code == 403
    assert APIClient().get(url).status_code in (401, 403)
    assert api.get(reverse("api-classifier-learning-curve", args=["nope"])).status_code == 404


def test_the_command_runs_a_round_when_due_or_forced(looped, capsys):
    task, _ = looped
    call_command("active_loop", "--survey", "fr-survey")
    assert "not due" in capsys.readouterr().out
    call_command("active_loop", "--survey", "fr-survey", "--retrain-after", "0")
    assert "loop off" in capsys.readouterr().out
    assert active_loop.loop_threshold(survey=task.survey) == 0
    call_command("active_loop", "--survey", "fr-survey", "--force", "--inline")
    assert ModelVersion.objects.get(task=task, number=2).status == ModelVersion.Status.ACTIVE
    with pytest.raises(CommandError, match="does not exist"):
        call_command("active_loop", "--survey", "nowhere", "--force")
    with pytest.raises(CommandError, match="0 \\(never\\) or more"):
        call_command("active_loop", "--survey", "fr-survey", "--retrain-after", "-1")
