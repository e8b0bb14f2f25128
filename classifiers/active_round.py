"""One round of a survey's active-learning loop, run as one job with phases and progress:

1. retrain every task of the survey that has an active version, warm-started from it (the
   training runner of ``retrain``, with ``RGZ_ACTIVE_ROUND_EPOCHS`` epochs);
2. promote the new versions;
3. rescore every cutout with them (class probabilities, entropy, margin, BALD, features);
4. re-rank the survey's queue order and the workflows whose policy reads the tasks;
5. push the new ranks as ``#priority`` to the linked Zooniverse projects (queue listeners).

A round that fails leaves the previous active versions and the queues' ranks in place: a failed
training never touches them, a degenerate version (a class it never finds) is not promoted over a
sound one, and a failure while rescoring makes the earlier versions active again before any
re-rank."""

from __future__ import annotations

import logging

from django.conf import settings

from annotations.models import Cutout, Survey
from annotations.queue_listeners import queue_ranked_notify
from core.errors import Conflict, DomainError, InvalidInput
from jobs.reports import JobReport

from . import jobs, promotion, services
from .active_loop import loop_tasks, loop_workflows
from .models import ClassifierTask, ModelVersion
from .readiness import version_warnings
from .selectors import active_version

logger = logging.getLogger(__name__)
PHASES = ("retrain", "promote", "rescore", "rerank", "push")


def _phase(progress, name: str, what: str = ""):
    index = PHASES.index(name) + 1

    def step(done: int, total: int, message: str = "") -> None:
        progress(done, total, f"round phase {index}/{len(PHASES)} {name}{what}: {message}")

    return step


def round_version_create(*, task: ClassifierTask, previous: ModelVersion) -> ModelVersion:
    """A new version of the task with the active version's settings (method, network, layers),
    ``RGZ_ACTIVE_ROUND_EPOCHS`` epochs and its weights to start from."""
    overrides = {k: v for k, v in previous.config.items() if k not in {"method", "epochs"}}
    return services.version_create(
        task=task,
        epochs=settings.RGZ_ACTIVE_ROUND_EPOCHS,
        labels="both",
        method=previous.method,
        overrides=overrides,
        warm_start_from=previous,
    )


def active_round(*, survey_id: int, trigger: str = "", progress) -> JobReport:
    """Run one round of the survey's loop (see the module); the report lists the phases."""
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        raise InvalidInput(f"survey {survey_id} does not exist (any more)")
    report = JobReport()
    phases: list[dict] = []
    report.extra = {"survey": survey.name, "trigger": trigger, "phases": phases, "versions": []}
    trained = _retrain(survey, progress, report, phases)
    promoted = _promote_and_rescore(trained, progress, report, phases)
    workflow_ids = _rerank(survey, promoted, progress, report, phases)
    notes = queue_ranked_notify(workflow_ids=workflow_ids, progress=_phase(progress, "push"))
    phases.append({"name": "push", "status": "done", "detail": "; ".join(notes) or "no linked Zooniverse project"})
    report.notes.extend(notes)
    report.created = len(promoted)
    return report


def _retrain(survey: Survey, progress, report: JobReport, phases: list[dict]) -> list[tuple]:
    """(task, previous active version, new ready version) per task trained; a failure stops the round."""
    trained = []
    for task in loop_tasks(survey=survey):
        previous = active_version(task=task)
        try:
            version = round_version_create(task=task, previous=previous)
        except Conflict as exc:  # a version of the task is training already (started by hand)
            report.notes.append(f"{task.name}: not retrained in this round ({exc.message})")
            continue
        step = _phase(progress, "retrain", f" {task.name} v{version.number} from v{previous.number}")
        try:
            jobs.train_classifier(version_id=version.pk, progress=step)
        except Exception as exc:  # the version has failed with the reason (jobs.versions)
            if not isinstance(exc, DomainError):
                logger.exception("round: retraining %s v%s failed", task, version.number)
            reason = exc.message if isinstance(exc, DomainError) else f"unexpected error: {exc}"
            raise InvalidInput(
                f"retraining {task.name} failed ({reason}); v{previous.number} stays active and the "
                "queues keep their ranks"
            ) from exc
        version.refresh_from_db()
        warnings = version_warnings(version)
        if warnings and not version_warnings(previous):  # never a degenerate version over a sound one
            raise InvalidInput(
                f"{task.name} v{version.number} is not promoted: {'; '.join(warnings)}; v{previous.number} stays "
                "active and the queues keep their ranks"
            )
        trained.append((task, previous, version))
    if not trained:
        raise InvalidInput(f"nothing to retrain in {survey.name}: " + ("; ".join(report.notes) or "no active version"))
    phases.append(
        {
            "name": "retrain",
            "status": "done",
            "detail": ", ".join(
                f"{t.name} v{v.number} (accuracy {v.metrics['accuracy']:.3f} on {v.metrics.get('n_train')} labels, "
                f"warm-started from v{p.number})"
                for t, p, v in trained
            ),
        }
    )
    return trained


def _promote_and_rescore(trained: list[tuple], progress, report: JobReport, phases: list[dict]) -> list[tuple]:
    """Promote each new version and rescore with it; any failure makes the earlier versions active
    again (the queues have not been re-ranked yet) and fails the round."""
    promoted = []
    try:
        for task, previous, version in trained:
            promotion.version_promote(version=version, score=False)
            promoted.append((task, previous, version))
            _phase(progress, "promote")(len(promoted), len(trained), f"{task.name} v{version.number} is active")
        phases.append({"name": "promote", "status": "done", "detail": f"{len(promoted)} version(s) promoted"})
        for task, _, version in promoted:
            step = _phase(progress, "rescore", f" {task.name} v{version.number}")
            scored = jobs.score_cutouts(version_id=version.pk, progress=step, rerank=False)
            featured = jobs.cutout_features(version_id=version.pk, progress=step, rerank=False)
            report.errors.extend(scored.errors + featured.errors)
            report.extra["versions"].append(
                {
                    "task": task.name,
                    "version": version.pk,
                    "number": version.number,
                    "scored": scored.created,
                    "features": featured.created,
                }
            )
    except Exception as exc:
        for task, previous, version in promoted:
            promotion.version_reinstate(version=previous)
            logger.warning("round: %s v%s reinstated after %s v%s failed", task, previous.number, task, version.number)
        message = exc.message if isinstance(exc, DomainError) else f"unexpected error: {exc}"
        raise InvalidInput(
            f"the round failed while promoting or rescoring ({message}); the earlier versions are active again "
            "and the queues keep their ranks"
        ) from exc
    phases.append({"name": "rescore", "status": "done", "detail": f"{len(promoted)} version(s) scored every cutout"})
    return promoted


def _rerank(survey: Survey, promoted: list[tuple], progress, report: JobReport, phases: list[dict]) -> list[int]:
    step = _phase(progress, "rerank")
    notes = []
    for done, (task, _, _) in enumerate(promoted, start=1):
        notes.extend(jobs.queues_rerank(task=task).notes)
        step(done, len(promoted), f"queues reading {task.name} re-ranked")
    report.notes.extend(notes)
    phases.append({"name": "rerank", "status": "done", "detail": "; ".join(notes) or "no queue reads these scores"})
    return loop_workflows(survey=survey)


def round_abandoned(*, survey_id: int, trigger: str = "", message: str) -> None:
    """A round whose worker died (or that was cancelled before it started): a version it was
    training fails, and a version it promoted but had not finished rescoring with gives way to the
    version it was warm-started from, so that the queues keep ranking with a fully scored model."""
    for task in ClassifierTask.objects.filter(survey_id=survey_id):
        for version in task.versions.filter(status=ModelVersion.Status.TRAINING, warm_start_from__isnull=False):
            services.version_fail(version_id=version.pk, message=message)
        active = active_version(task=task)
        if active is None or active.warm_start_from is None:
            continue
        cutouts = Cutout.objects.filter(survey_id=survey_id)
        scored = cutouts.filter(**{f"model_scores__{task.name}__version_id": active.pk}).count()
        if scored < cutouts.count():
            promotion.version_reinstate(version=active.warm_start_from)
            logger.warning("round abandoned: %s v%s reinstated (%s)", task, active.warm_start_from.number, message)
