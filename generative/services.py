"""Writes of the generative app: training, promotion and roll-back of generator versions,
sample generation, and the review that lets approved samples into the labelling queue."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from annotations.models import Cutout, RetirementReason, SubjectWorkflowStatus, Survey, Workflow
from annotations.services import subject_set_get_or_create, subject_statuses_ensure
from core.errors import Conflict, InvalidInput, NotFound
from jobs.dispatch import job_start

from . import selectors
from .models import MAX_SEED, GeneratedSample, GeneratorVersion

PRESETS = ("tiny", "cpu", "gpu")
TRAIN_JOB, GENERATE_JOB, EVALUATE_JOB = "train_generator", "generate_samples", "evaluate_generator"
SYNTHETIC_SET = "Synthetic (approved)"
MAX_PER_CLASS = 500


@transaction.atomic
def generator_training_start(
    *,
    survey: Survey,
    preset: str = "cpu",
    epochs: int | None = None,
    classes: list[str] | None = None,
    user=None,
    send: bool = True,
) -> GeneratorVersion:
    """A new version in ``training`` and its job on the training queue; one training per survey at a
    time (``send=False``: the caller runs the job in its own process)."""
    version = generator_version_create(survey=survey, preset=preset, epochs=epochs, classes=classes, user=user)
    job = job_start(kind=TRAIN_JOB, parameters={"version_id": version.pk}, user=user, send=send)
    GeneratorVersion.objects.filter(pk=version.pk).update(job_id=job.pk)
    version.job_id = job.pk
    return version


@transaction.atomic
def generator_version_create(
    *, survey: Survey, preset: str = "cpu", epochs: int | None = None, classes: list[str] | None = None, user=None
) -> GeneratorVersion:
    """The version row alone (``generator_training_start`` also queues its job)."""
    if preset not in PRESETS:
        raise InvalidInput(f"preset must be one of {list(PRESETS)}, not {preset!r}", field="preset")
    if epochs is not None and not 1 <= epochs <= 100_000:
        raise InvalidInput("epochs must be a whole number from 1 to 100000", field="epochs")
    Survey.objects.select_for_update().get(pk=survey.pk)  # one start at a time per survey
    if GeneratorVersion.objects.filter(survey=survey, status=GeneratorVersion.Status.TRAINING).exists():
        raise Conflict(f"a generator of {survey.name} is already training")
    if classes:
        known = selectors.survey_labels(survey=survey)
        unknown = [c for c in classes if c not in known]
        if unknown:
            have = ", ".join(known) or "none"
            raise InvalidInput(
                f"unknown class(es) {', '.join(unknown)}: the labelled cutouts of {survey.name} are {have}",
                field="classes",
            )
    number = (GeneratorVersion.objects.filter(survey=survey).aggregate(n=Max("number"))["n"] or 0) + 1
    version = GeneratorVersion.objects.create(
        survey=survey,
        number=number,
        preset=preset,
        classes=list(classes or []),
        config={"epochs": epochs} if epochs else {},
        created_by=user if user and user.pk else None,
    )
    return version


def version_fail(*, version_id: int, message: str) -> None:
    """A training that failed or was abandoned: the version says why; the active one is untouched."""
    GeneratorVersion.objects.filter(pk=version_id, status=GeneratorVersion.Status.TRAINING).update(
        status=GeneratorVersion.Status.FAILED, error=message[:2000]
    )


@transaction.atomic
def version_promote(*, version: GeneratorVersion) -> GeneratorVersion:
    """Make an evaluated, ready version the survey's active one (the previous active stays ready)."""
    Survey.objects.select_for_update().get(pk=version.survey_id)  # one change of the active version at a time
    version = GeneratorVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == GeneratorVersion.Status.ACTIVE:
        raise Conflict(f"v{version.number} is already active")
    if version.status != GeneratorVersion.Status.READY or not version.metrics or not version.weights:
        raise Conflict(f"v{version.number} is {version.status}: only an evaluated, ready version can be promoted")
    GeneratorVersion.objects.filter(survey=version.survey, status=GeneratorVersion.Status.ACTIVE).update(
        status=GeneratorVersion.Status.READY
    )
    GeneratorVersion.objects.filter(pk=version.pk).update(
        status=GeneratorVersion.Status.ACTIVE, promoted_at=timezone.now()
    )
    version.refresh_from_db()
    return version


@transaction.atomic
def version_rollback(*, survey: Survey) -> GeneratorVersion:
    """Make the ready version promoted before the active one active again."""
    Survey.objects.select_for_update().get(pk=survey.pk)  # one change of the active version at a time
    active = (
        GeneratorVersion.objects.select_for_update()
        .filter(survey=survey, status=GeneratorVersion.Status.ACTIVE)
        .first()
    )
    if active is None:
        raise Conflict(f"{survey.name} has no active generator to roll back")
    previous = (
        GeneratorVersion.objects.filter(survey=survey, status=GeneratorVersion.Status.READY, promoted_at__isnull=False)
        .exclude(pk=active.pk)
        .order_by("-promoted_at")
        .first()
    )
    if previous is None:
        raise Conflict(f"{survey.name} has no earlier promoted generator")
    GeneratorVersion.objects.filter(pk=active.pk).update(status=GeneratorVersion.Status.READY)
    GeneratorVersion.objects.filter(pk=previous.pk).update(
        status=GeneratorVersion.Status.ACTIVE, promoted_at=timezone.now()
    )
    previous.refresh_from_db()
    return previous


def generator_evaluation_start(*, version: GeneratorVersion, user=None):
    """A job that measures a trained version again, with the survey's classifier active now
    (one promoted after the version was trained, say)."""
    if version.status not in (GeneratorVersion.Status.READY, GeneratorVersion.Status.ACTIVE) or not version.weights:
        raise Conflict(f"v{version.number} is {version.status}: only a trained version can be evaluated")
    return job_start(kind=EVALUATE_JOB, parameters={"version_id": version.pk}, user=user)


@transaction.atomic
def version_metrics_store(*, version_id: int, metrics: dict, properties_png: bytes) -> None:
    """A new evaluation of a trained version (its metrics and their plot); nothing else changes."""
    version = GeneratorVersion.objects.select_for_update().get(pk=version_id)
    previous_plot = version.properties_plot.name
    version.properties_plot.save(f"version-{version.pk}-properties.png", ContentFile(properties_png), save=False)
    version.metrics = metrics
    version.save(update_fields=["metrics", "properties_plot"])
    if previous_plot and previous_plot != version.properties_plot.name:
        version.properties_plot.storage.delete(previous_plot)


def generate_parameters_check(
    *, survey: Survey, version, per_class: int, guidance: float | None, seed: int | None = None
) -> None:
    if version is None:
        raise Conflict(f"{survey.name} has no active generator: train one and promote it first")
    if not 1 <= per_class <= MAX_PER_CLASS:
        raise InvalidInput(f"per_class must be from 1 to {MAX_PER_CLASS}", field="per_class")
    if guidance is not None and not 0 <= guidance <= 20:
        raise InvalidInput("guidance must lie between 0 and 20", field="guidance")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"seed must be from 0 to {MAX_SEED}", field="seed")


def generate_job_parameters(
    *, survey: Survey, version, per_class: int, guidance: float | None = None, seed: int | None = None
) -> dict:
    """The generation job's parameters, checked. Without a seed the job takes the version's next
    unused one, so asking again renders new samples; the seed is fixed here, at the start, so a
    redelivered job skips what it stored."""
    generate_parameters_check(survey=survey, version=version, per_class=per_class, guidance=guidance, seed=seed)
    if seed is None:
        seed = selectors.next_sample_seed(version=version)
    parameters = {"version_id": version.pk, "per_class": per_class, "seed": seed}
    if guidance is not None:
        parameters["guidance"] = float(guidance)
    return parameters


def samples_generate_start(
    *, survey: Survey, per_class: int, guidance: float | None = None, seed: int | None = None, user=None
):
    """A job that renders ``per_class`` samples of every class with the survey's active generator."""
    version = GeneratorVersion.objects.filter(survey=survey, status=GeneratorVersion.Status.ACTIVE).first()
    parameters = generate_job_parameters(
        survey=survey, version=version, per_class=per_class, guidance=guidance, seed=seed
    )
    return job_start(kind=GENERATE_JOB, parameters=parameters, user=user)


@transaction.atomic
def sample_create(*, version: GeneratorVersion, cutout: Cutout, requested_class: str, seed: int, guidance: float):
    return GeneratedSample.objects.create(
        version=version, cutout=cutout, requested_class=requested_class, seed=seed, guidance=guidance
    )


@transaction.atomic
def samples_review(*, survey: Survey, sample_ids: list[int], review: str, user=None) -> int:
    """Approve (the samples join the survey's synthetic subject set and every workflow that set
    is linked to, served flagged as synthetic) or reject (withdrawn from every queue)."""
    if review not in (GeneratedSample.Review.APPROVED, GeneratedSample.Review.REJECTED):
        raise InvalidInput("review must be approved or rejected", field="review")
    samples = list(GeneratedSample.objects.select_for_update().filter(pk__in=sample_ids, version__survey=survey))
    missing = set(sample_ids) - {s.pk for s in samples}
    if missing:
        raise NotFound(f"no samples {sorted(missing)[:20]} in {survey.name}", field="ids")
    already = sorted(s.pk for s in samples if s.review == review)
    if already:
        raise Conflict(f"sample(s) {already[:20]} are {review} already; nothing was changed", field="ids")
    cutouts = Cutout.objects.filter(pk__in=[s.cutout_id for s in samples])
    marked = list(cutouts.only("pk", "metadata"))
    for cutout in marked:  # hidden metadata: what a classifier training with augmentation may use
        cutout.metadata = {**(cutout.metadata or {}), "#approved": review == GeneratedSample.Review.APPROVED}
    Cutout.objects.bulk_update(marked, ["metadata"])
    subject_set = subject_set_get_or_create(survey=survey, display_name=SYNTHETIC_SET)
    if review == GeneratedSample.Review.APPROVED:
        subject_set.cutouts.add(*cutouts)
        # a sample rejected before and approved now goes back into the queues its rejection left
        SubjectWorkflowStatus.objects.filter(subject__in=cutouts, retirement_reason=RetirementReason.HUMAN).update(
            retired_at=None, retirement_reason=""
        )
        for workflow in _workflows_of(survey, subject_set):
            subject_statuses_ensure(workflow=workflow, cutouts=cutouts)
    else:
        subject_set.cutouts.remove(*cutouts)
        SubjectWorkflowStatus.objects.filter(subject__in=cutouts, retired_at__isnull=True).update(
            retired_at=timezone.now(), retirement_reason=RetirementReason.HUMAN
        )
    return GeneratedSample.objects.filter(pk__in=[s.pk for s in samples]).update(
        review=review, reviewed_by=user if user and user.pk else None, reviewed_at=timezone.now()
    )


def _workflows_of(survey: Survey, synthetic_set) -> list[Workflow]:
    """The workflows that serve the survey's real cutouts; the synthetic set is linked to them too.
    Not those whose real subjects show other bands (layers): a generated sample is radio only, and
    a subject without the others' layers would give itself away there."""
    layered = SubjectWorkflowStatus.objects.filter(
        workflow=OuterRef("pk"), subject__synthetic=False, subject__layers__isnull=False
    )
    rows = Workflow.objects.filter(subject_sets__survey=survey, active=True).exclude(Exists(layered))
    workflows = list(rows.distinct())
    for workflow in workflows:
        workflow.subject_sets.add(synthetic_set)
    return workflows
