"""The self-running active-learning loop of a survey: when enough new consensus labels have come
in, one job (a *round*) retrains every classifier task of the survey warm-started from its active
version, promotes the new version, rescores every cutout (class probabilities, entropy, BALD,
features), re-ranks the queues and pushes the new ranks to the linked Zooniverse projects
(``active_round.py`` runs it). Only one round per survey runs at a time: a trigger while one is
queued or running joins it. Triggers: each recorded classification that gives its subject a
consensus label (a Celery task, sent through the outbox once the classification is committed),
Celery beat's periodic check, and ``manage.py active_loop``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from annotations.models import Cutout, Survey, Workflow
from core.errors import InvalidInput
from jobs.dispatch import job_start
from jobs.models import Job

from . import selectors
from .models import ActiveLoop, ClassifierTask, ModelVersion

ROUND_JOB = "active_round"  # registered in ClassifiersConfig.ready()
LIVE = (Job.Status.QUEUED, Job.Status.RUNNING)


def loop_threshold(*, survey: Survey) -> int:
    """New consensus labels that start a round of this survey (0: the loop is off)."""
    own = ActiveLoop.objects.filter(survey=survey).values_list("retrain_after", flat=True).first()
    return settings.RGZ_ACTIVE_RETRAIN_AFTER if own is None else own


@transaction.atomic
def loop_threshold_set(*, survey: Survey, retrain_after: int | None) -> ActiveLoop:
    """Give a survey its own threshold (0: never; None: follow ``RGZ_ACTIVE_RETRAIN_AFTER``)."""
    if retrain_after is not None and retrain_after < 0:
        raise InvalidInput("the number of new labels must be 0 (never) or more", field="retrain_after")
    row, _ = ActiveLoop.objects.update_or_create(survey=survey, defaults={"retrain_after": retrain_after})
    return row


def loop_tasks(*, survey: Survey) -> list[ClassifierTask]:
    """The survey's classifier tasks that a round retrains: those with an active version."""
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list("task_id", flat=True)
    return list(ClassifierTask.objects.filter(survey=survey, pk__in=active).select_related("survey", "workflow"))


@dataclass
class LoopState:
    survey: str
    threshold: int
    new_labels: dict[str, int]  # task name -> consensus labels since its last training

    @property
    def due(self) -> bool:
        return self.threshold > 0 and any(n >= self.threshold for n in self.new_labels.values())


def loop_state(*, survey: Survey) -> LoopState:
    """How many new consensus labels each retrainable task has, against the survey's threshold."""
    counts = {
        task.name: len(selectors.consensus_labels(task=task)) - task.consensus_labels_at_last_training
        for task in loop_tasks(survey=survey)
    }
    return LoopState(survey=survey.name, threshold=loop_threshold(survey=survey), new_labels=counts)


def live_round(*, survey: Survey) -> Job | None:
    """The survey's round that is queued or running, if any."""
    return Job.objects.filter(kind=ROUND_JOB, status__in=LIVE, parameters__survey_id=survey.pk).first()


@transaction.atomic
def active_round_start(*, survey: Survey, trigger: str, user=None, send: bool = True) -> tuple[Job, bool]:
    """Queue a round of the survey's loop; returns it and whether it is new. While a round is
    queued or running, a further trigger is coalesced into it (the same job comes back)."""
    Survey.objects.select_for_update().filter(pk=survey.pk).first()  # one start at a time per survey
    running = live_round(survey=survey)
    if running is not None:
        return running, False
    if not loop_tasks(survey=survey):
        raise InvalidInput(
            f"no classifier task of {survey.name} has an active version to warm-start from: "
            "train and promote one first",
            field="survey",
        )
    job = job_start(kind=ROUND_JOB, parameters={"survey_id": survey.pk, "trigger": trigger}, user=user, send=send)
    return job, True


def active_round_if_due(*, survey: Survey, trigger: str = "new consensus labels") -> Job | None:
    """Start (or join) a round when a task of the survey has enough new consensus labels."""
    if loop_threshold(survey=survey) <= 0:
        return None
    if live_round(survey=survey) is not None:
        return active_round_start(survey=survey, trigger=trigger)[0]
    state = loop_state(survey=survey)
    if not state.due:
        return None
    return active_round_start(survey=survey, trigger=trigger)[0]


def active_round_check(*, workflow_id: int, subject_id: int) -> Job | None:
    """After a classification: when its subject now has a consensus label for a task of the
    workflow, see whether the survey's round is due (the full count is done only then)."""
    survey_id = Cutout.objects.filter(pk=subject_id).values_list("survey_id", flat=True).first()
    tasks = list(ClassifierTask.objects.filter(workflow_id=workflow_id, survey_id=survey_id))
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if not tasks or workflow is None:
        return None
    for task in tasks:
        found = selectors.task_consensus(task=task, subject_ids=[subject_id]).get((subject_id, task.question))
        if found is not None and found.num_votes >= task.min_votes and found.agreement >= task.min_agreement:
            return active_round_if_due(survey=task.survey)
    return None


def active_rounds_due() -> list[Job]:
    """Start the rounds that are due on every survey (Celery beat; catches labels that came in
    without a classification being recorded here, e.g. a Zooniverse import)."""
    started = []
    for survey in Survey.objects.filter(classifier_tasks__isnull=False).distinct():
        job = active_round_if_due(survey=survey, trigger="periodic check")
        if job is not None:
            started.append(job)
    return started


def loop_workflows(*, survey: Survey) -> list[int]:
    """Workflows that serve the survey's cutouts (their queues move when the survey is rescored)."""
    return sorted(
        Workflow.objects.filter(subject_statuses__subject__survey=survey).distinct().values_list("pk", flat=True)
    )
