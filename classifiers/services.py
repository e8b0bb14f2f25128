"""Writes: classifier tasks, training runs, scores and features (promotion: ``promotion``)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotations.acquisition import policy_rollback, policy_save
from annotations.demo_survey import DEMO_SURVEY, DEMO_WORKFLOW
from annotations.models import Cutout, CutoutLayer, Survey, Workflow
from annotations.posterior_consensus import CONSENSUS_METHODS
from core.errors import Conflict, InvalidInput, NotFound
from jobs.dispatch import job_start

from . import acquisition, ml, selectors
from .models import ClassifierTask, CutoutFeatures, ModelVersion

LABEL_SOURCES = ("expert", "consensus", "both")
METHODS = ("fixmatch", "supervised")
# Networks to choose from (several image layers make a multi-branch Tang CNN by themselves):
# the Tang CNN, and the D16- or D8-equivariant CNN (escnn, mlcore.ssl.equivariant).
ARCHITECTURES = ("tang", "d16", "d8")
DEMO_TASK_CLASSES = ["FRI", "FRII"]  # FRI = 0, FRII = 1 as in MiraBest
# Job kinds (registered in ClassifiersConfig.ready()).
TRAIN_JOB = "train_classifier"
SCORE_JOB = "score_cutouts"
FEATURES_JOB = "cutout_features"


@transaction.atomic
def classifier_task_create(
    *,
    name: str,
    survey: Survey,
    workflow: Workflow,
    classes: list[str],
    question: str = "T0",
    min_agreement: float = 0.8,
    min_votes: int = 3,
    retrain_after_new_labels: int | None = None,
    consensus_method: str = "votes",
) -> ClassifierTask:
    """A new classification task; ``retrain_after_new_labels`` defaults to the setting
    ``RGZ_CLASSIFIER_RETRAIN_AFTER_NEW_LABELS`` (0: no automatic retraining)."""
    if retrain_after_new_labels is None:
        retrain_after_new_labels = settings.RGZ_CLASSIFIER_RETRAIN_AFTER_NEW_LABELS
    if ClassifierTask.objects.filter(name=name).exists():
        raise Conflict(f"a classifier task named {name!r} exists already")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise InvalidInput("a classifier task needs at least two distinct classes", field="classes")
    if not 0.0 < min_agreement <= 1.0:
        raise InvalidInput("min_agreement must lie in (0, 1]", field="min_agreement")
    if consensus_method not in CONSENSUS_METHODS:
        raise InvalidInput(
            f"consensus_method must be one of {', '.join(CONSENSUS_METHODS)}, not {consensus_method!r}",
            field="consensus_method",
        )
    version = workflow.versions.order_by("-major", "-minor").first()
    task_def = (version.tasks if version else {}).get(question)
    if task_def is None:
        raise InvalidInput(f"workflow {workflow.pk} has no task {question!r}", field="question")
    values = {str(a.get("value", a.get("label"))) for a in task_def.get("answers", [])}
    missing = [c for c in classes if c not in values]
    if missing:
        raise InvalidInput(f"classes not among the answers of {question}: {', '.join(missing)}", field="classes")
    return ClassifierTask.objects.create(
        name=name,
        survey=survey,
        workflow=workflow,
        question=question,
        classes=list(classes),
        min_agreement=min_agreement,
        min_votes=min_votes,
        retrain_after_new_labels=retrain_after_new_labels,
        consensus_method=consensus_method,
    )


def default_task_unsaved() -> ClassifierTask | None:
    """The FRI / FRII task on the demo survey as it would be made, unsaved (None when it exists
    already or the demo survey is not loaded): pages show it before its first training."""
    name = settings.RGZ_CLASSIFIER_DEFAULT_TASK
    if ClassifierTask.objects.filter(name=name).exists():
        return None
    survey = Survey.objects.filter(name=DEMO_SURVEY).first()
    workflow = Workflow.objects.filter(display_name=DEMO_WORKFLOW).first()
    if survey is None or workflow is None:
        return None
    return ClassifierTask(name=name, survey=survey, workflow=workflow, classes=DEMO_TASK_CLASSES)


def classifier_task_for_name(*, name: str | None) -> ClassifierTask:
    """The named task; the default name also creates the FRI / FRII task on the demo survey
    (only actions call this: retraining, explanations; pages use ``default_task_unsaved``)."""
    name = name or settings.RGZ_CLASSIFIER_DEFAULT_TASK
    task = ClassifierTask.objects.filter(name=name).first()
    if task is not None:
        return task
    if name == settings.RGZ_CLASSIFIER_DEFAULT_TASK:
        unsaved = default_task_unsaved()
        if unsaved is not None:
            try:
                with transaction.atomic():
                    return classifier_task_create(
                        name=name, survey=unsaved.survey, workflow=unsaved.workflow, classes=DEMO_TASK_CLASSES
                    )
            except (Conflict, IntegrityError):  # made by a simultaneous first request
                return selectors.task_get(name=name)
    raise NotFound(f"no classifier task named {name!r} (create one in the admin or through the API)")


def _check_labels(task: ClassifierTask, labels: str) -> selectors.TrainingSet:
    data = selectors.training_set(task=task, source=labels)
    if not data.train:
        raise InvalidInput(
            f"no {labels} labels for task {task.name} in the training split "
            f"({len(data.labels)} labelled cutouts in all; classes {', '.join(task.classes)})",
            field="labels",
        )
    present = {data.labels[pk] for pk in data.train}
    if len(present) < 2:
        only = task.classes[present.pop()]
        raise InvalidInput(
            f"the {labels} labels of task {task.name} hold a single class ({only}); at least two are needed",
            field="labels",
        )
    return data


@transaction.atomic
def version_create(
    *,
    task: ClassifierTask,
    epochs: int | None = None,
    labels: str = "both",
    method: str = "fixmatch",
    overrides: dict | None = None,
    augment_synthetic: bool = False,
    architecture: str | None = None,
    user=None,
    warm_start_from: ModelVersion | None = None,
) -> ModelVersion:
    """A new version in status ``training`` (its training data checked, not yet trained).
    ``architecture``: one of ``ARCHITECTURES`` (default: the Tang CNN, or one branch per layer);
    ``warm_start_from``: a version of the same task whose weights it starts from."""
    if labels not in LABEL_SOURCES:
        raise InvalidInput(f"labels must be one of {', '.join(LABEL_SOURCES)}, not {labels!r}", field="labels")
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}, not {method!r}", field="method")
    if architecture is not None:
        if architecture not in ARCHITECTURES:
            raise InvalidInput(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, not {architecture!r}", field="architecture"
            )
        overrides = dict(overrides or {})
        overrides["network"] = {**(overrides.get("network") or {}), "architecture": architecture}
    epochs = epochs or settings.RGZ_CLASSIFIER_EPOCHS
    if epochs < 1:
        raise InvalidInput("epochs must be a positive number", field="epochs")
    ClassifierTask.objects.select_for_update().filter(pk=task.pk).first()  # one start at a time per task
    if task.versions.filter(status=ModelVersion.Status.TRAINING).exists():
        raise Conflict(f"a version of {task.name} is training already; wait for it or let it fail")
    _check_labels(task, labels)
    try:
        config = ml.config_for(method=method, epochs=epochs, n_classes=len(task.classes), overrides=overrides)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bad training settings: {exc}", field="config")
    number = (task.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return ModelVersion.objects.create(
        task=task,
        number=number,
        architecture=config.network.architecture,
        method=method,
        config=config.as_dict(),
        label_source=labels,
        augment_synthetic=augment_synthetic,
        created_by=user if user is not None and user.pk else None,
        warm_start_from=warm_start_from,
    )


def layers_overrides(*, task: ClassifierTask, layers: list[str]) -> dict:
    """Training settings that read these image layers, one input channel each; several layers
    make a multi-branch network (one convolutional branch per layer, fused before the head)."""
    names = [name.strip().lower() for name in layers if name.strip()]
    if not names or len(set(names)) != len(names):
        raise InvalidInput("--layers must name distinct layers, e.g. radio,infrared", field="layers")
    for name in names:
        if name != "radio" and not CutoutLayer.objects.filter(cutout__survey=task.survey, band=name).exists():
            raise InvalidInput(
                f"no cutout of {task.survey.name} has a {name!r} layer (add one with ingest_layers)", field="layers"
            )
    architecture = "multibranch" if len(names) > 1 else "tang"
    return {"layers": names, "network": {"architecture": architecture, "in_channels": len(names)}}


@transaction.atomic
def training_start(
    *,
    task: ClassifierTask,
    epochs: int | None = None,
    labels: str = "both",
    method: str = "fixmatch",
    overrides: dict | None = None,
    augment_synthetic: bool = False,
    architecture: str | None = None,
    user=None,
    send: bool = True,
) -> ModelVersion:
    """Create a version and start its training job (on the ``training`` queue; a worker that dies
    hands it back to the queue, and the next resumes from the checkpoint)."""
    version = version_create(
        task=task,
        epochs=epochs,
        labels=labels,
        method=method,
        overrides=overrides,
        augment_synthetic=augment_synthetic,
        architecture=architecture,
        user=user,
    )
    job = job_start(kind=TRAIN_JOB, parameters={"version_id": version.pk}, user=user, send=send)
    ModelVersion.objects.filter(pk=version.pk).update(job=job)
    version.job = job
    return version


def version_record_epoch(*, version: ModelVersion, history: list[dict]) -> None:
    ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.TRAINING).update(history=history)


@transaction.atomic
def version_set_training_data(*, version: ModelVersion, training_data: dict) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(training_data=training_data)


@transaction.atomic
def version_finish(
    *,
    version: ModelVersion,
    metrics: dict,
    history: list[dict],
    weights: bytes,
    plots: dict[str, bytes],
    weights_error: str = "",
) -> ModelVersion:
    """Store a finished training's evaluation, weights and plots, and the result of loading the
    weights (``weights_error``, empty when they loaded); the version becomes ``ready`` (promotion
    is a separate step)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.TRAINING:
        raise Conflict(f"version {version.pk} is {version.status}, not training")
    stem = f"{version.task.name}-v{version.number}"
    version.weights.save(f"{stem}.pt", ContentFile(weights), save=False)
    for name, png in plots.items():
        getattr(version, f"{name}_plot").save(f"{stem}-{name}.png", ContentFile(png), save=False)
    version.metrics = metrics
    version.history = history
    version.weights_checked_at, version.weights_error = timezone.now(), weights_error
    version.status = ModelVersion.Status.READY
    version.trained_at = timezone.now()
    version.save()
    return version


def version_fail(*, version_id: int, message: str) -> None:
    """Mark a training version failed (the active version is never touched)."""
    ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED, error=message[:4000], trained_at=timezone.now()
    )


def version_weights_check(*, version: ModelVersion) -> ModelVersion:
    """Load the stored weights (torch: call it on a worker or the command line, never in a web
    request) and record whether they fit the version's architecture."""
    problem = ml.weights_problem(version.weights.path, version.config) if version.weights else "no weights file"
    ModelVersion.objects.filter(pk=version.pk).update(weights_checked_at=timezone.now(), weights_error=problem)
    version.refresh_from_db(fields=["weights_checked_at", "weights_error"])
    return version


def cutout_scores_store(*, task: ClassifierTask, version: ModelVersion, scores: dict[int, dict]) -> int:
    """Write one task's scores into ``Cutout.model_scores[task.name]``, other keys kept; returns rows."""
    cutouts = list(Cutout.objects.filter(pk__in=list(scores)).only("pk", "model_scores", "priority"))
    for cutout in cutouts:
        entry = dict(scores[cutout.pk])
        entry.update({"version": version.number, "version_id": version.pk, "scored_at": timezone.now().isoformat()})
        cutout.model_scores = {**(cutout.model_scores or {}), task.name: entry}
    Cutout.objects.bulk_update(cutouts, ["model_scores"], batch_size=500)
    return len(cutouts)


def cutout_features_store(*, version: ModelVersion, ids: list[int], vectors) -> int:
    """Store (or replace) the feature vectors of one version for these cutouts; returns rows."""
    return features_store(
        feature_version=selectors.feature_version_of(version), model_version=version, ids=ids, vectors=vectors
    )


def features_store(*, feature_version: str, model_version: ModelVersion | None, ids: list[int], vectors) -> int:
    """Store (or replace) these cutouts' vectors of one feature space (a classifier version's, or a
    survey encoder's with no model version); returns rows."""
    rows = [
        CutoutFeatures(
            cutout_id=cutout_id,
            feature_version=feature_version,
            model_version=model_version,
            dim=int(vector.shape[0]),
            vector=vector.astype("<f4").tobytes(),
        )
        for cutout_id, vector in zip(ids, vectors, strict=True)
    ]
    with transaction.atomic():
        CutoutFeatures.objects.filter(feature_version=feature_version, cutout_id__in=ids).delete()
        CutoutFeatures.objects.bulk_create(rows, batch_size=500)
    return len(rows)


@transaction.atomic
def task_mark_trained(*, task: ClassifierTask, consensus_labels: int) -> None:
    ClassifierTask.objects.filter(pk=task.pk).update(consensus_labels_at_last_training=consensus_labels)


def auto_retrain_if_due(*, task: ClassifierTask) -> ModelVersion | None:
    """Start a retraining when ``retrain_after_new_labels`` new consensus labels have arrived
    since the last training (and none is training now)."""
    if task.retrain_after_new_labels <= 0:
        return None
    count = len(selectors.consensus_labels(task=task))
    if count - task.consensus_labels_at_last_training < task.retrain_after_new_labels:
        return None
    if task.versions.filter(status=ModelVersion.Status.TRAINING).exists():
        return None
    return training_start(task=task, labels="both")


@transaction.atomic
def acquisition_policy_set(*, workflow: Workflow, values: dict, task_name: str = "", note: str = "", user=None):
    """Save the settings as the workflow's new active policy and queue the ranking of its queue by
    it (a job); bad settings or an unknown task change nothing. Returns the policy row and the job."""
    acquisition.policy_task(workflow=workflow, task_name=task_name)  # an unknown task is a 400
    policy_row = policy_save(workflow=workflow, values=values, task_name=task_name, note=note, user=user)
    return policy_row, _rank_job_start(policy_row, user)


@transaction.atomic
def acquisition_policy_rollback(*, workflow: Workflow, policy_id, user=None):
    """Re-activate an earlier policy of the workflow and queue the ranking of its queue by it."""
    policy_row = policy_rollback(workflow=workflow, policy_id=policy_id)
    return policy_row, _rank_job_start(policy_row, user)


def _rank_job_start(policy_row, user):
    parameters = {"workflow_id": policy_row.workflow_id, "policy_id": policy_row.pk}
    return job_start(kind=acquisition.RANK_JOB, parameters=parameters, user=user)
