"""Writes of the model registry: promotion of a version, its reinstatement and roll-back."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from jobs.dispatch import job_start

from . import selectors
from .models import ClassifierTask, ModelVersion
from .readiness import version_warnings
from .services import FEATURES_JOB, SCORE_JOB


@transaction.atomic
def version_promote(
    *, version: ModelVersion, user=None, refuse_degenerate: bool = False, score: bool = True
) -> ModelVersion:
    """Make ``version`` the task's one active version, atomically, then queue the scoring of
    every cutout (``score=False``: the caller scores, as an active-learning round does). Only an
    evaluated (``ready``) version whose weights passed their check (at the end of training) can be
    promoted; nothing is loaded here, so the row locks are held briefly.
    ``refuse_degenerate``: a version with warnings (``readiness.version_warnings``) is a 409."""
    ClassifierTask.objects.select_for_update().filter(pk=version.task_id).first()
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == ModelVersion.Status.ACTIVE:
        raise Conflict(f"{version.task.name} v{version.number} is the active version already")
    if version.status == ModelVersion.Status.FAILED:
        raise Conflict(f"{version.task.name} v{version.number} failed ({version.error[:200]}); it cannot be promoted")
    if version.status != ModelVersion.Status.READY or not version.metrics:
        raise Conflict(f"{version.task.name} v{version.number} is {version.status}: only an evaluated version")
    if not version.weights:
        raise InvalidInput(f"{version.task.name} v{version.number} has no weights file")
    if version.weights_checked_at is None:
        raise Conflict(
            f"the weights of {version.task.name} v{version.number} have not been checked yet "
            f"(manage.py check_weights --version-id {version.pk} checks them)"
        )
    if version.weights_error:
        message = f"cannot promote {version.task.name} v{version.number}: {version.weights_error}"
        raise InvalidInput(message, field="weights")
    reasons = version_warnings(version) if refuse_degenerate else []
    if reasons:
        raise Conflict(
            f"{version.task.name} v{version.number} looks degenerate: {'; '.join(reasons)}. "
            "Promote it with force=true to confirm",
            field="force",
        )
    version.task.versions.filter(status=ModelVersion.Status.ACTIVE).update(status=ModelVersion.Status.READY)
    version.status = ModelVersion.Status.ACTIVE
    version.promoted_at = timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    if score:
        version.scoring_job = job_start(kind=SCORE_JOB, parameters={"version_id": version.pk}, user=user)
        job_start(kind=FEATURES_JOB, parameters={"version_id": version.pk}, user=user)
    return version


def version_promote_confirmed(*, version: ModelVersion, force: bool = False, user=None) -> ModelVersion:
    """A person's promotion: a degenerate version (a class it never finds, a macro-F1 far below
    its accuracy) is refused with the reasons unless ``force`` says they were read and accepted."""
    return version_promote(version=version, user=user, refuse_degenerate=not force)


@transaction.atomic
def version_reinstate(*, version: ModelVersion) -> None:
    """Make an earlier active version active again as it was (no new promotion date, no scoring):
    what an active-learning round does when it fails after promoting its new version."""
    ClassifierTask.objects.select_for_update().filter(pk=version.task_id).first()
    version.task.versions.filter(status=ModelVersion.Status.ACTIVE).exclude(pk=version.pk).update(
        status=ModelVersion.Status.READY
    )
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ACTIVE)


@transaction.atomic
def version_rollback(*, task: ClassifierTask, user=None) -> ModelVersion:
    """Promote the version that was active before the current one."""
    current = selectors.active_version(task=task)
    previous = task.versions.filter(status=ModelVersion.Status.READY, promoted_at__isnull=False)
    if current is not None:
        previous = previous.exclude(pk=current.pk)
    previous = previous.order_by("-promoted_at").first()
    if previous is None:
        raise Conflict(f"{task.name} has no earlier promoted version to roll back to")
    return version_promote(version=previous, user=user)
