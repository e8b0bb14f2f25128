"""Long work of the classifiers app, run as jobs: training a version (resuming from its checkpoint
after a worker crash) and scoring every cutout on the ``training`` Celery queue, LIME explanations
on the default queue."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from django.conf import settings

from annotations.models import Cutout
from annotations.ranking import queue_rerank_after_scores
from core.errors import DomainError, InvalidInput
from jobs.reports import JobReport

from . import explanations, ml, selectors, services
from .models import ModelVersion

logger = logging.getLogger(__name__)


def checkpoint_path(version: ModelVersion) -> Path:
    return Path(settings.MEDIA_ROOT) / "classifiers" / "checkpoints" / f"version-{version.pk}.ckpt"


def train_classifier(*, version_id: int, progress) -> JobReport:
    """Train, evaluate on the fixed test split, store weights, metrics and plots; the version ends
    ``ready`` (or ``failed`` with the reason). The active version is never touched here."""
    version = selectors.version_get(version_id=version_id)
    report = JobReport()
    if version.status != ModelVersion.Status.TRAINING:
        report.skipped = 1
        report.notes.append(f"version {version.pk} is {version.status}; nothing to do")
        return report
    try:
        _train(version, progress, report)
    except DomainError as exc:
        services.version_fail(version_id=version.pk, message=exc.message)
        raise
    except Exception as exc:
        logger.exception("training of version %s failed", version.pk)
        services.version_fail(version_id=version.pk, message=f"unexpected error: {exc}")
        raise
    return report


def training_abandoned(*, version_id: int, message: str) -> None:
    """A training whose worker died in every attempt: the version fails, its checkpoint goes."""
    services.version_fail(version_id=version_id, message=message)
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is not None:
        checkpoint_path(version).unlink(missing_ok=True)


def _train(version: ModelVersion, progress, report: JobReport) -> None:
    task = version.task
    classes = list(task.classes)
    data = selectors.training_set(task=task, source=version.label_source)
    size = version.config["network"]["image_size"]
    by_id = Cutout.objects.in_bulk(data.train + data.val + data.test + data.unlabelled)

    def read(ids: list[int], what: str):
        def step(done, total):
            progress(done, total, f"reading {what} images {done}/{total}")

        arrays = ml.cutout_arrays([by_id[i] for i in ids], size=size, progress=step)
        report.errors.extend(arrays.errors)
        return arrays

    train = read(data.train, "labelled")
    val = read(data.val, "validation")
    test = read(data.test, "test")
    pool = (
        read(data.unlabelled, "unlabelled")
        if version.method == "fixmatch"
        else ml.CutoutArrays(x=np.zeros((0, 1, size, size), np.float32), ids=[])
    )
    y_train = np.array([data.labels[i] for i in train.ids], dtype=np.int64)
    y_val = np.array([data.labels[i] for i in val.ids], dtype=np.int64)
    y_test = np.array([data.labels[i] for i in test.ids], dtype=np.int64)
    if len(set(y_train.tolist())) < 2:
        raise InvalidInput(
            f"{len(y_train)} usable labelled images in {len(set(y_train.tolist()))} class(es): "
            "at least two classes are needed"
        )
    services.version_set_training_data(
        version=version,
        training_data={
            "train": train.ids,
            "val": val.ids,
            "test": test.ids,
            "unlabelled": pool.ids,
            "labels": {str(i): data.labels[i] for i in train.ids + val.ids + test.ids},
            "skipped": report.errors[:200],
        },
    )
    config = ml.config_from_dict(version.config)

    def on_epoch(epoch: int, total: int, row: dict) -> None:
        # after a resume, the rows recorded before the crash up to the checkpoint are kept
        history[:] = [h for h in history if h["epoch"] < row["epoch"]] + [row]
        services.version_record_epoch(version=version, history=history)
        val_text = f", val acc {row['val_accuracy']:.3f}" if row.get("val_accuracy") is not None else ""
        progress(
            epoch,
            total,
            f"epoch {epoch}/{total}: loss_x {row['loss_x']:.3f}, loss_u {row['loss_u']:.3f}, "
            f"train acc {row['train_accuracy']:.3f}{val_text}",
        )

    history: list[dict] = list(version.history or [])
    try:
        clf = ml.train(
            config,
            x=train.x,
            y=y_train,
            x_unlabelled=pool.x,
            x_val=val.x,
            y_val=y_val,
            checkpoint_path=checkpoint_path(version),
            progress=on_epoch,
        )
    except ml.training_data_error_type() as exc:
        raise InvalidInput(str(exc))
    if clf.resumed_from_epoch_:
        report.notes.append(f"resumed from the checkpoint of epoch {clf.resumed_from_epoch_}")
    # Evaluate on the fixed test split (the validation split when a survey has no test labels yet).
    x_eval, y_eval, split = (test.x, y_test, "test") if len(y_test) else (val.x, y_val, "val")
    if len(y_eval) == 0:
        x_eval, y_eval, split = train.x, y_train, "train"
        report.notes.append("no validation or test labels: metrics are on the training labels")
    metrics, plots = ml.evaluate(clf, x=x_eval, y=y_eval, classes=classes, x_labelled=train.x, x_unlabelled=pool.x)
    metrics.update(
        {
            "split": split,
            "n_train": len(y_train),
            "n_unlabelled": len(pool.ids),
            "epochs": len(clf.history_),
            # the weights evaluated: the best validation accuracy's (the last epoch's without validation labels)
            "selected_epoch": clf.selected_epoch_,
            "best_val_accuracy": clf.best_val_accuracy_,
        }
    )
    weights_file = checkpoint_path(version).with_suffix(".weights.pt")
    ml.save_weights(clf, weights_file)
    services.version_finish(
        version=version, metrics=metrics, history=clf.history_, weights=weights_file.read_bytes(), plots=plots
    )
    weights_file.unlink(missing_ok=True)
    checkpoint_path(version).unlink(missing_ok=True)
    services.task_mark_trained(task=task, consensus_labels=len(selectors.consensus_labels(task=task)))
    report.created = 1
    report.extra = {
        "version": version.pk,
        "number": version.number,
        "accuracy": metrics["accuracy"],
        "ece": metrics["ece"],
    }


def score_cutouts(*, version_id: int, progress, batch_size: int | None = None) -> JobReport:
    """Score every cutout of the task's survey with the (active) version, in batches: class
    probabilities, entropy, margin and BALD into ``Cutout.model_scores[task name]``."""
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
    for start in range(0, len(ids), batch_size):
        if not ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.ACTIVE).exists():
            report.notes.append(f"v{version.number} is no longer active: scoring stopped")
            break
        batch = list(Cutout.objects.filter(pk__in=ids[start : start + batch_size]).order_by("pk"))
        arrays = ml.cutout_arrays(batch, size=size)
        report.errors.extend(arrays.errors)
        report.failed += len(arrays.errors)
        if arrays.ids:
            scored = dict(zip(arrays.ids, ml.scores(clf, arrays.x, list(task.classes)), strict=True))
            report.created += services.cutout_scores_store(task=task, version=version, scores=scored)
        done = min(start + batch_size, len(ids))
        progress(done, len(ids), f"scored {done}/{len(ids)} cutouts")
    ranking = queue_rerank_after_scores(survey=task.survey, task_name=task.name)
    if ranking is not None:
        report.notes.append(f"queue of {ranking.survey} re-ranked ({ranking.by}): {ranking.ranked} cutouts ranked")
    report.extra = {"version": version.pk, "scored": report.created, "failed": report.failed}
    return report


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
