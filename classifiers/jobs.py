"""Long work of the classifiers app, run as jobs: training a version (resuming from its checkpoint
after a worker crash) and scoring every cutout on the ``training`` Celery queue, LIME explanations
on the default queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from annotations.models import Cutout
from annotations.ranking import queue_rerank_after_scores
from core.errors import InvalidInput
from jobs.reports import JobReport
from jobs.versions import version_training_run

from . import explanations, ml, selectors, services
from .acquisition import workflows_rank_for_task
from .models import ModelVersion

logger = logging.getLogger(__name__)


def version_layers(version: ModelVersion) -> tuple[str, ...]:
    """The image layers a version reads, one input channel each (older versions: the radio image)."""
    return tuple(version.config.get("layers") or (ml.RADIO,))


def checkpoint_path(version: ModelVersion) -> Path:
    return Path(settings.MEDIA_ROOT) / "classifiers" / "checkpoints" / f"version-{version.pk}.ckpt"


def train_classifier(*, version_id: int, progress) -> JobReport:
    """Train, evaluate on the fixed test split, store weights, metrics and plots; the version ends
    ``ready`` (or ``failed`` with the reason). The active version is never touched here."""
    version = selectors.version_get(version_id=version_id)
    return version_training_run(
        version,
        train=lambda report: _train(version, progress, report),
        fail=training_abandoned,  # a failed training's checkpoint is of no further use
        training_status=ModelVersion.Status.TRAINING,
    )


def training_abandoned(*, version_id: int, message: str) -> None:
    """A training that failed, or whose worker died in every attempt: the version fails, and its
    checkpoint and any half-written weights file go."""
    services.version_fail(version_id=version_id, message=message)
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is not None:
        checkpoint = checkpoint_path(version)
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_suffix(".weights.pt").unlink(missing_ok=True)


def _train(version: ModelVersion, progress, report: JobReport) -> None:
    arrays, labels, synthetic, brightness = _read(version, progress, report)
    epochs = int(version.config.get("epochs") or 1)
    # Reading ends at 100 %; training starts again from 0 with its own words (a new phase).
    progress(0, epochs, f"training: epoch 1/{epochs} running (time left known after two epochs)")
    services.version_set_training_data(
        version=version,
        training_data={
            "train": arrays.train.ids,
            "val": arrays.val.ids,
            "test": arrays.test.ids,
            "unlabelled": arrays.pool.ids,
            "labels": {str(i): labels[i] for i in arrays.train.ids + arrays.val.ids + arrays.test.ids},
            "synthetic": [i for i in arrays.train.ids if i in synthetic],
            "synthetic_brightness": brightness,
            "skipped": report.errors[:200],
        },
    )
    try:
        fitted = ml.fit_and_evaluate(
            ml.config_from_dict(version.config),
            arrays,
            classes=list(version.task.classes),
            checkpoint_path=checkpoint_path(version),
            progress=_epoch_recorder(version, progress),
            warm_weights=_warm_weights(version),
        )
    except ml.training_data_error_type() as exc:
        raise InvalidInput(str(exc))
    report.notes.extend(fitted.notes)
    _store(version, fitted, report)


def _warm_weights(version: ModelVersion) -> str:
    """The weights file a version starts from (an active-learning round's), or "" (random weights)."""
    source = version.warm_start_from
    if source is None:
        return ""
    if not source.weights or source.weights_error:
        raise InvalidInput(f"{source.task.name} v{source.number} has no usable weights to warm-start from")
    return source.weights.path


def _read(
    version: ModelVersion, progress, report: JobReport
) -> tuple[ml.TrainingArrays, dict[int, int], set[int], dict | None]:
    """The images of the version's training set, prepared (generated ones with the real images'
    brightness); unreadable ones are reported."""
    data = selectors.training_set(
        task=version.task, source=version.label_source, augment_synthetic=version.augment_synthetic
    )
    size = version.config["network"]["image_size"]
    layers = version_layers(version)
    by_id = Cutout.objects.prefetch_related("layers").in_bulk(data.train + data.val + data.test + data.unlabelled)

    def read(ids: list[int], what: str) -> ml.CutoutArrays:
        def step(done, total):
            progress(done, total, f"reading {what} images {done}/{total}")

        arrays = ml.cutout_arrays([by_id[i] for i in ids], size=size, layers=layers, progress=step)
        report.errors.extend(arrays.errors)
        return arrays

    train, val, test = read(data.train, "labelled"), read(data.val, "validation"), read(data.test, "test")
    brightness = None
    if data.synthetic:
        train, brightness = ml.synthetic_brightness_matched(train, {pk: by_id[pk] for pk in data.synthetic})
        report.notes.append(
            f"{brightness['matched']} generated image(s) given the real images' brightness"
            + (f", {brightness['unmatched']} with none recorded kept a peak of 1" if brightness["unmatched"] else "")
        )
    pool = (
        read(data.unlabelled, "unlabelled")
        if version.method == "fixmatch"
        else ml.CutoutArrays(x=np.zeros((0, len(layers), size, size), np.float32), ids=[])
    )

    def classes(arrays: ml.CutoutArrays) -> np.ndarray:
        return np.array([data.labels[i] for i in arrays.ids], dtype=np.int64)

    y_train = classes(train)
    if len(set(y_train.tolist())) < 2:
        raise InvalidInput(
            f"{len(y_train)} usable labelled images in {len(set(y_train.tolist()))} class(es): "
            "at least two classes are needed"
        )
    arrays = ml.TrainingArrays(train, val, test, pool, y_train=y_train, y_val=classes(val), y_test=classes(test))
    return arrays, data.labels, set(data.synthetic), brightness


def _epoch_recorder(version: ModelVersion, progress):
    """Records each epoch's row on the version and reports it as the job's progress."""
    # after a resume, the rows recorded before the crash up to the checkpoint are kept
    history: list[dict] = list(version.history or [])

    def on_epoch(epoch: int, total: int, row: dict) -> None:
        history[:] = [h for h in history if h["epoch"] < row["epoch"]] + [row]
        services.version_record_epoch(version=version, history=history)
        val_text = f", val acc {row['val_accuracy']:.3f}" if row.get("val_accuracy") is not None else ""
        progress(
            epoch,
            total,
            f"epoch {epoch}/{total}: loss_x {row['loss_x']:.3f}, loss_u {row['loss_u']:.3f}, "
            f"train acc {row['train_accuracy']:.3f}{val_text}",
        )

    return on_epoch


def _store(version: ModelVersion, fitted: ml.FittedClassifier, report: JobReport) -> None:
    """Weights, metrics and plots onto the version (it becomes ``ready``); the checkpoint goes."""
    weights_file = checkpoint_path(version).with_suffix(".weights.pt")
    ml.save_weights(fitted.clf, weights_file)
    services.version_finish(
        version=version,
        metrics=fitted.metrics,
        history=fitted.clf.history_,
        weights=weights_file.read_bytes(),
        plots=fitted.plots,
        weights_error=ml.weights_problem(str(weights_file), version.config),  # promotion then loads nothing
    )
    weights_file.unlink(missing_ok=True)
    checkpoint_path(version).unlink(missing_ok=True)
    task = version.task
    services.task_mark_trained(task=task, consensus_labels=len(selectors.consensus_labels(task=task)))
    report.created = 1
    report.extra = {
        "version": version.pk,
        "number": version.number,
        "accuracy": fitted.metrics["accuracy"],
        "ece": fitted.metrics["ece"],
    }


def score_cutouts(*, version_id: int, progress, batch_size: int | None = None, rerank: bool = True) -> JobReport:
    """Score every cutout of the task's survey with the (active) version, in batches: class
    probabilities, entropy, margin and BALD into ``Cutout.model_scores[task name]``; then re-rank
    the queues that read them (``rerank=False``: the caller does, as an active-learning round)."""
    version = selectors.version_get(version_id=version_id)
    task = version.task
    report = JobReport()
    try:
        clf = ml.load_classifier(version.weights.path, version.config)
    except ml.weights_error_type() as exc:
        raise InvalidInput(str(exc))
    batch_size = batch_size or settings.RGZ_CLASSIFIER_SCORE_BATCH
    size = version.config["network"]["image_size"]
    ids = list(Cutout.objects.filter(survey=task.survey).order_by("pk").values_list("pk", flat=True))
    progress(0, len(ids), f"scoring {len(ids)} cutouts with {task.name} v{version.number}")
    for done, arrays in _active_version_batches(version, ids, batch_size, size, report, "scoring"):
        if arrays.ids:
            scored = dict(zip(arrays.ids, ml.scores(clf, arrays.x, list(task.classes)), strict=True))
            report.created += services.cutout_scores_store(task=task, version=version, scores=scored)
        progress(done, len(ids), f"scored {done}/{len(ids)} cutouts")
    if rerank:
        report.notes.extend(queues_rerank(task=task).notes)
    report.extra = {"version": version.pk, "scored": report.created, "failed": report.failed}
    return report


@dataclass
class Reranked:
    """What a re-rank after new scores did: the workflows re-ranked by a policy, and in words."""

    workflow_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def queues_rerank(*, task) -> Reranked:
    """Re-rank the survey's queue order (when it reads this task's entropy) and every workflow
    whose acquisition policy reads this task's scores."""
    done = Reranked()
    ranking = queue_rerank_after_scores(survey=task.survey, task_name=task.name)
    if ranking is not None:
        done.notes.append(f"queue of {ranking.survey} re-ranked ({ranking.by}): {ranking.ranked} cutouts ranked")
    for ranked in workflows_rank_for_task(task=task):
        done.workflow_ids.append(ranked.workflow)
        done.notes.append(
            f"workflow {ranked.workflow} re-ranked by its acquisition policy: {ranked.ranked} ranked, "
            f"{ranked.exploration} at random"
        )
    done.workflow_ids = sorted(set(done.workflow_ids))
    return done


def explain_cutout(*, version_id: int, cutout_id: int, progress) -> JobReport:
    """Make one version's LIME explanation of a cutout (see ``explanations.explanation_request``)."""
    version = selectors.version_get(version_id=version_id)
    cutout = Cutout.objects.filter(pk=cutout_id).first()
    if cutout is None:
        raise InvalidInput(f"cutout {cutout_id} does not exist (any more)")
    if not version.weights:
        raise InvalidInput(f"{version.task.name} v{version.number} has no weights to explain with")

    def step(done: int, total: int) -> None:
        progress(done, total, f"LIME: classified {done}/{total} perturbed images of cutout {cutout.pk}")

    result = explanations.explanation_make(version=version, cutout=cutout, progress=step)
    report = JobReport(created=1)
    report.extra = {"cutout": cutout.pk, "version": version.number, "label": result["label"]}
    return report


def cutout_features(*, version_id: int, progress, batch_size: int | None = None, rerank: bool = True) -> JobReport:
    """Store the (active) version's penultimate-layer features of every cutout of every survey, in
    batches (novelty, diversity and "more like this" read them), then re-rank the workflows whose
    policy reads this task."""
    version = selectors.version_get(version_id=version_id)
    report = JobReport()
    try:
        clf = ml.load_classifier(version.weights.path, version.config)
    except ml.weights_error_type() as exc:
        raise InvalidInput(str(exc))
    batch_size = batch_size or settings.RGZ_CLASSIFIER_SCORE_BATCH
    size = version.config["network"]["image_size"]
    ids = list(Cutout.objects.order_by("pk").values_list("pk", flat=True))
    feature_version = selectors.feature_version_of(version)
    progress(0, len(ids), f"features of {len(ids)} cutouts ({feature_version})")
    for done, arrays in _active_version_batches(version, ids, batch_size, size, report, "features"):
        if arrays.ids:
            report.created += services.cutout_features_store(
                version=version, ids=arrays.ids, vectors=ml.features(clf, arrays.x)
            )
        progress(done, len(ids), f"features of {done}/{len(ids)} cutouts")
    if rerank:
        for ranked in workflows_rank_for_task(task=version.task):
            report.notes.append(f"workflow {ranked.workflow} re-ranked with {ranked.feature_version or 'no features'}")
    report.extra = {"version": version.pk, "feature_version": feature_version, "stored": report.created}
    return report


def _active_version_batches(version: ModelVersion, ids: list[int], batch_size: int, size: int, report, work: str):
    """(cutouts done, arrays) per batch of ``ids``, read with the layers the version was trained on
    (a cutout without one of them is skipped and named in the report); stops, with a note, once
    the version is no longer active."""
    for start in range(0, len(ids), batch_size):
        if not ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.ACTIVE).exists():
            report.notes.append(f"v{version.number} is no longer active: {work} stopped")
            return
        batch = list(
            Cutout.objects.filter(pk__in=ids[start : start + batch_size]).prefetch_related("layers").order_by("pk")
        )
        arrays = ml.cutout_arrays(batch, size=size, layers=version_layers(version))
        report.errors.extend(arrays.errors)
        report.failed += len(arrays.errors)
        yield min(start + batch_size, len(ids)), arrays
