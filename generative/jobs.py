"""Long work of the generative app, run as jobs: training a generator version on the ``training``
queue (resuming from its checkpoint after a worker crash) and rendering samples."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from annotations.ingestion import synthetic_cutout_create
from annotations.synthetic import DRAWN_PEAK, GENERATOR_MEDIAN_PEAK
from core.errors import InvalidInput
from core.feature_extractors import feature_extractor_for_survey
from jobs.reports import JobReport
from jobs.versions import version_training_run

from . import ml, selectors, services
from .models import SEED_BLOCK, GeneratedSample, GeneratorVersion

logger = logging.getLogger(__name__)


def checkpoint_path(version: GeneratorVersion) -> Path:
    return Path(settings.MEDIA_ROOT) / "generative" / "checkpoints" / f"version-{version.pk}.ckpt"


def train_generator(*, version_id: int, progress) -> JobReport:
    """Read the survey's labelled cutouts, train, evaluate, store weights, metrics and a sample
    grid; the version ends ``ready`` (or ``failed`` with the reason). The active version is
    never touched here."""
    version = selectors.version_get(version_id=version_id)
    return version_training_run(
        version,
        train=lambda report: _train(version, progress, report),
        fail=training_abandoned,  # a failed training never resumes: its checkpoint goes too
        training_status=GeneratorVersion.Status.TRAINING,
    )


def training_abandoned(*, version_id: int, message: str) -> None:
    services.version_fail(version_id=version_id, message=message)
    version = GeneratorVersion.objects.filter(pk=version_id).first()
    if version is not None:
        checkpoint_path(version).unlink(missing_ok=True)


def _train(version: GeneratorVersion, progress, report: JobReport) -> None:
    cutouts, classes = selectors.labelled_cutouts(survey=version.survey, classes=version.classes or None)
    config = ml.diffusion_config(preset=version.preset, n_classes=len(classes), epochs=version.config.get("epochs"))
    labels = [classes.index(str(c.metadata["label"])) for c in cutouts]
    progress(0, 1, f"reading {len(cutouts)} labelled cutouts")
    data = ml.labelled_arrays(
        cutouts, labels, size=config.unet.image_size, progress=lambda d, t: progress(d, t, f"read {d}/{t} cutouts")
    )
    report.errors.extend(data.errors)
    _check_class_counts(data.y, classes, settings.RGZ_GENERATIVE_MIN_PER_CLASS)
    test = _held_out(data.y, settings.RGZ_GENERATIVE_TEST_FRACTION, seed=config.seed)
    train = np.setdiff1d(np.arange(len(data.y)), test)
    GeneratorVersion.objects.filter(pk=version.pk).update(
        config=config.as_dict(),
        classes=classes,
        training_data={
            "train": [data.ids[i] for i in train],
            "test": [data.ids[i] for i in test],
            # what a classifier needs to give the samples the real images' brightness at its own size
            "median_peak": ml.median_peak(data.x[train]),
        },
    )

    def on_epoch(epoch: int, total: int, row: dict) -> None:
        left = row["seconds"] * (total - epoch)
        GeneratorVersion.objects.filter(pk=version.pk).update(history=_history_append(version.pk, row))
        if epoch % settings.RGZ_GENERATIVE_GRID_EVERY == 0 and epoch < total:
            progress(epoch, total, f"epoch {epoch}/{total}: drawing a sample grid")
            _grid_store(version.pk, ml.preview_grid(generator, seed=epoch))
        progress(epoch, total, f"epoch {epoch}/{total}: loss {row['loss']:.4f}, about {left / 60:.0f} min left")

    generator = ml.generator_new(config, checkpoint_path=checkpoint_path(version), progress=on_epoch)
    generator.fit(data.x[train], data.y[train])
    judge = feature_extractor_for_survey(version.survey, classes)
    progress(1, 1, f"evaluating: sampling every class, judged by {judge.version_label if judge else 'no classifier'}")
    x_test = data.x[test] if len(test) else data.x[train]
    y_test = data.y[test] if len(test) else data.y[train]
    evaluation = ml.evaluate(
        generator,
        x_train=data.x[train],
        x_test=x_test,
        y_test=y_test,
        per_class=settings.RGZ_GENERATIVE_EVAL_PER_CLASS,
        classes=classes,
        judge=judge,
    )
    _store(version, generator, evaluation)
    checkpoint_path(version).unlink(missing_ok=True)  # the weights are stored; nothing resumes any more
    report.created = 1
    report.extra.update({"version": version.number, "train_images": int(len(train)), "test_images": int(len(test))})


def evaluate_generator(*, version_id: int, progress) -> JobReport:
    """Measure a trained version again on its own held-out cutouts, judged by the survey's
    classifier active now; only the version's metrics change (a failure changes nothing)."""
    version = selectors.version_get(version_id=version_id)
    generator = ml.load(Path(settings.MEDIA_ROOT) / version.weights.name, expected_config=version.config)
    report = JobReport()
    split = {key: version.training_data.get(key, []) for key in ("train", "test")}
    cutouts = selectors.cutouts_by_id(survey=version.survey, ids=split["train"] + split["test"])
    arrays = {}
    for key, ids in split.items():
        rows = [cutouts[i] for i in ids if i in cutouts and str(cutouts[i].metadata.get("label")) in version.classes]
        labels = [version.classes.index(str(c.metadata["label"])) for c in rows]
        arrays[key] = ml.labelled_arrays(rows, labels, size=generator.config.unet.image_size)
        report.errors.extend(arrays[key].errors)
    train, test = arrays["train"], arrays["test"] if len(arrays["test"].y) else arrays["train"]
    if len(train.y) < 2:
        raise InvalidInput(f"only {len(train.y)} of v{version.number}'s training cutouts are left to evaluate with")
    judge = feature_extractor_for_survey(version.survey, version.classes)
    progress(0, 1, f"sampling every class, judged by {judge.version_label if judge else 'no classifier'}")
    evaluation = ml.evaluate(
        generator,
        x_train=train.x,
        x_test=test.x,
        y_test=test.y,
        per_class=settings.RGZ_GENERATIVE_EVAL_PER_CLASS,
        classes=version.classes,
        judge=judge,
    )
    services.version_metrics_store(
        version_id=version.pk, metrics=evaluation.metrics, properties_png=evaluation.properties_png
    )
    progress(1, 1, "evaluated")
    report.extra.update({"version": version.number, "judge": judge.version_label if judge else None})
    return report


def _check_class_counts(y: np.ndarray, classes: list[str], minimum: int) -> None:
    """Every class needs ``minimum`` usable images; the error names each class short of it."""
    counts = np.bincount(y, minlength=len(classes)) if len(y) else np.zeros(len(classes), dtype=int)
    short = [f"{name} has {int(n)}" for name, n in zip(classes, counts, strict=True) if n < minimum]
    if short:
        raise InvalidInput(
            f"too few usable labelled cutouts to train a generator: {'; '.join(short)} "
            f"(at least {minimum} of each class are needed)"
        )


def _held_out(y: np.ndarray, fraction: float, *, seed: int) -> np.ndarray:
    """A class-stratified ``fraction`` of the indices, for evaluation only."""
    rng = np.random.default_rng(seed)
    chosen = []
    for k in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == k))
        chosen.extend(members[: int(round(len(members) * fraction))])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _grid_store(version_id: int, png: bytes) -> None:
    """The training's latest sample grid, shown live on the registry page."""
    version = GeneratorVersion.objects.get(pk=version_id)
    old = version.sample_grid.name
    version.sample_grid.save(f"version-{version_id}-grid.png", ContentFile(png), save=False)
    GeneratorVersion.objects.filter(pk=version_id).update(sample_grid=version.sample_grid.name)
    if old and old != version.sample_grid.name:
        version.sample_grid.storage.delete(old)


def _history_append(version_id: int, row: dict) -> list:
    history = list(GeneratorVersion.objects.filter(pk=version_id).values_list("history", flat=True).first() or [])
    return [*history, {k: row[k] for k in ("epoch", "step", "loss", "seconds")}]


@transaction.atomic
def _store(version: GeneratorVersion, generator, evaluation: ml.Evaluation) -> None:
    version = GeneratorVersion.objects.select_for_update().get(pk=version.pk)
    weights = Path(settings.MEDIA_ROOT) / "generative" / "weights" / f"version-{version.pk}.pt"
    generator.save(weights)
    version.weights.name = str(weights.relative_to(settings.MEDIA_ROOT))
    previous_grid = version.sample_grid.name
    version.sample_grid.save(f"version-{version.pk}-grid.png", ContentFile(evaluation.grid_png), save=False)
    if previous_grid and previous_grid != version.sample_grid.name:
        version.sample_grid.storage.delete(previous_grid)  # the last live preview
    version.properties_plot.save(
        f"version-{version.pk}-properties.png", ContentFile(evaluation.properties_png), save=False
    )
    version.loss_plot.save(
        f"version-{version.pk}-loss.png", ContentFile(ml.loss_curve_png(generator.history_)), save=False
    )
    version.metrics = evaluation.metrics
    version.history = generator.history_
    version.status = GeneratorVersion.Status.READY
    version.trained_at = timezone.now()
    version.save()


def brightness_metadata(image: np.ndarray, version: GeneratorVersion) -> dict:
    """A sample's drawn peak beside its generator's real median peak (hidden metadata read by
    classifier training, ``classifiers.ml.synthetic_brightness_matched``); none for a version
    trained before the median was recorded."""
    reference = (version.training_data or {}).get("median_peak")
    if not reference:
        return {}
    return {DRAWN_PEAK: float(np.max(image)), GENERATOR_MEDIAN_PEAK: float(reference)}


def generate_samples(
    *, version_id: int, per_class: int, seed: int = 0, guidance: float | None = None, progress
) -> JobReport:
    """Render ``per_class`` samples of every class as synthetic cutouts, each with its provenance.
    Seeds are fixed per sample, so a resumed job skips what it already stored."""
    version = selectors.version_get(version_id=version_id)
    generator = ml.load(Path(settings.MEDIA_ROOT) / version.weights.name, expected_config=version.config)
    guidance = generator.config.guidance if guidance is None else guidance
    report = JobReport()
    block = seed * SEED_BLOCK
    plan = [(k, block + k * 10_000 + i) for k in range(len(version.classes)) for i in range(per_class)]
    # a resumed job (same seeds and guidance) skips what it stored; another guidance renders anew
    done_seeds = set(GeneratedSample.objects.filter(version=version, guidance=guidance).values_list("seed", flat=True))
    shape = selectors.training_cutout_shape(version=version)  # drawn smaller, served at the survey's size
    todo = [(k, s) for k, s in plan if s not in done_seeds]
    report.skipped = len(plan) - len(todo)
    for n, (k, sample_seed) in enumerate(todo, start=1):
        image = ml.sample(generator, [k], guidance=guidance, seed=sample_seed)[0]
        requested = version.classes[k]
        with transaction.atomic():  # a worker lost between the two leaves neither: the redelivery redoes it
            cutout = synthetic_cutout_create(
                survey=version.survey,
                name=f"generated-v{version.number}-{sample_seed}-{guidance:g}",
                image=ml.sky_image(image, shape=shape),
                metadata={
                    "#generator_version": version.number,
                    "#requested_class": requested,
                    "#seed": sample_seed,
                    **brightness_metadata(image, version),
                },
            )
            services.sample_create(
                version=version, cutout=cutout, requested_class=requested, seed=sample_seed, guidance=guidance
            )
        report.created += 1
        report.cutout_ids.append(cutout.pk)
        progress(n, len(todo), f"{requested}: {n}/{len(todo)} rendered")
    return report
