"""The ``encoder_train`` job: train a survey's self-supervised encoder on all its cutouts, store one
vector per cutout, then make it the survey's active encoder (only when every step succeeded)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.conf import settings

from annotations.models import Cutout
from core.errors import InvalidInput
from jobs.reports import JobReport
from jobs.versions import version_training_run

from . import encoders, ml
from .models import FeatureEncoder

READ_BATCH = 256  # cutouts read (and embedded) at a time, for progress


def encoder_train(*, encoder_id: int, progress) -> JobReport:
    """Read, train, save, embed, activate; any error fails the encoder with the reason."""
    encoder = encoders.encoder_get(encoder_id=encoder_id)
    return version_training_run(
        encoder,
        train=lambda report: _train(encoder, progress, report),
        fail=lambda version_id, message: encoders.encoder_fail(encoder_id=version_id, message=message),
        training_status=FeatureEncoder.Status.TRAINING,
    )


def _train(encoder: FeatureEncoder, progress, report: JobReport) -> None:
    try:
        config = ml.encoder_config(encoder.config)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bad encoder settings: {exc}")
    encoders.encoder_set_config(encoder=encoder, config=config)
    ids = list(Cutout.objects.filter(survey=encoder.survey).order_by("pk").values_list("pk", flat=True))
    needed = max(2, config["batch_size"])
    survey = encoder.survey.name
    if len(ids) < needed:
        raise InvalidInput(f"{_too_few(survey, len(ids), needed, config)} (it has {len(ids)} cutouts)")
    arrays = _read(ids, config["image_size"], progress, report)
    # it learns from real cutouts only (generated ones would teach it the generator's look), and
    # gives every cutout, generated ones too, a vector
    generated = set(Cutout.objects.filter(pk__in=arrays.ids, synthetic=True).values_list("pk", flat=True))
    real = np.array([i not in generated for i in arrays.ids], dtype=bool)
    if real.sum() < needed:
        raise InvalidInput(
            f"{_too_few(survey, int(real.sum()), needed, config)} ({int(real.sum())} real of its {len(ids)} "
            "cutouts could be read)"
        )
    fitted = ml.encoder_fit(config, arrays.x[real], _step_reporter(progress, config["steps"]))
    weights_file = Path(settings.MEDIA_ROOT) / "classifiers" / "encoders" / f"training-{encoder.pk}.pt"
    try:
        ml.encoder_save(fitted, weights_file)
        weights = weights_file.read_bytes()
    finally:
        weights_file.unlink(missing_ok=True)
    stored = _embed_and_store(encoder, fitted, arrays, progress)
    history = [round(loss, 5) for loss in fitted.loss_history_]
    encoders.encoder_activate(encoder=encoder, weights=weights, loss_history=history)
    report.created = stored
    report.extra = {
        "encoder": encoder.pk,
        "number": encoder.number,
        "feature_version": encoder.feature_version,
        "stored": stored,
        "loss_first": history[0] if history else None,
        "loss_last": history[-1] if history else None,
    }


def _too_few(survey: str, count: int, needed: int, config: dict) -> str:
    return (
        f"survey {survey}: {count} usable cutouts, the encoder needs at least {needed} "
        f"(two, and its batch size {config['batch_size']})"
    )


def _read(ids: list[int], size: int, progress, report: JobReport) -> ml.CutoutArrays:
    """The survey's radio images at the encoder's size; unreadable ones are skipped and reported."""
    chunks = []
    progress(0, len(ids), f"reading images 0/{len(ids)}")
    for start in range(0, len(ids), READ_BATCH):
        batch = list(Cutout.objects.filter(pk__in=ids[start : start + READ_BATCH]).order_by("pk"))
        arrays = ml.cutout_arrays(batch, size=size)
        report.errors.extend(arrays.errors)
        report.failed += len(arrays.errors)
        chunks.append(arrays)
        done = min(start + READ_BATCH, len(ids))
        progress(done, len(ids), f"reading images {done}/{len(ids)}")
    x = np.concatenate([c.x for c in chunks]) if chunks else np.zeros((0, 1, size, size), np.float32)
    return ml.CutoutArrays(x=x, ids=[i for c in chunks for i in c.ids])


def _step_reporter(progress, steps: int):
    """The training phase's progress, with the time left from the pace so far."""
    started = time.monotonic()
    progress(0, steps, f"training step 0/{steps}")

    def on_step(step: int, total: int, loss: float) -> None:
        left = (time.monotonic() - started) / step * (total - step)
        progress(step, total, f"training step {step}/{total}, about {_duration(left)} left (loss {loss:.3f})")

    return on_step


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _embed_and_store(encoder: FeatureEncoder, fitted, arrays: ml.CutoutArrays, progress) -> int:
    total, stored = len(arrays.ids), 0
    progress(0, total, f"features 0/{total}")
    for start in range(0, total, READ_BATCH):
        ids = arrays.ids[start : start + READ_BATCH]
        vectors = ml.encoder_embed(fitted, arrays.x[start : start + READ_BATCH])
        stored += encoders.encoder_features_store(encoder=encoder, ids=ids, vectors=vectors)
        progress(start + len(ids), total, f"features {start + len(ids)}/{total}")
    return stored
