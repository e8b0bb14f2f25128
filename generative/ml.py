"""The bridge from the generative app to mlcore.generative: cutout rows in, arrays, generators,
metrics and pictures out. torch is imported inside the functions, so the web process starts
without it."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from annotations.ml import ImageReadError, read_cutout_image
from annotations.models import Cutout
from core.errors import InvalidInput


@dataclass
class LabelledArrays:
    x: np.ndarray  # (N, 1, S, S) float32 in [0, 1], noise-clipped as the classifier prepares images
    y: np.ndarray  # (N,) class indices
    ids: list[int]
    errors: list[str] = field(default_factory=list)


def labelled_arrays(
    cutouts: list[Cutout], labels: list[int], *, size: int, progress: Callable[[int, int], None] | None = None
) -> LabelledArrays:
    """Each cutout's source image, noise-clipped, scaled to [0, 1] and resampled to ``size``;
    unreadable or blank ones are skipped and named."""
    from mlcore.ssl.data import BadImageError, clip_and_scale, resample

    images, kept, ids, errors = [], [], [], []
    for done, (cutout, label) in enumerate(zip(cutouts, labels, strict=True), start=1):
        try:
            images.append(resample(clip_and_scale(read_cutout_image(cutout.source_file.path).data)[None], size)[0])
        except (ImageReadError, BadImageError, OSError, ValueError) as exc:
            errors.append(f"cutout {cutout.pk} ({cutout.name}): {exc}")
        else:
            kept.append(label)
            ids.append(cutout.pk)
        if progress is not None and (done % 100 == 0 or done == len(cutouts)):
            progress(done, len(cutouts))
    x = np.stack(images)[:, None].astype(np.float32) if images else np.zeros((0, 1, size, size), np.float32)
    return LabelledArrays(x=x, y=np.asarray(kept, dtype=np.int64), ids=ids, errors=errors)


def diffusion_config(*, preset: str, n_classes: int, epochs: int | None = None, overrides: dict | None = None):
    """A preset's settings (``tiny``, ``cpu``, ``gpu``) for this survey's classes."""
    from mlcore.generative.config import DiffusionConfig
    from mlcore.generative.config import preset as preset_config

    config = preset_config(preset, n_classes=n_classes)
    if epochs:
        config = replace(config, epochs=epochs)
    if overrides:
        config = DiffusionConfig.from_dict({**config.as_dict(), **overrides})
    return config


def config_from_dict(data: dict):
    from mlcore.generative.config import DiffusionConfig

    return DiffusionConfig.from_dict(data)


def generator_new(config, *, checkpoint_path: Path, progress):
    """An unfitted generator; its ``fit`` resumes from ``checkpoint_path`` when a checkpoint of the
    same settings is there, and ``progress`` may call ``preview_grid`` on it between epochs."""
    from mlcore.generative.diffusion import DiffusionGenerator

    return DiffusionGenerator(config, checkpoint_path=checkpoint_path, progress=progress)


def preview_grid(generator, *, per_class: int = 4, seed: int = 0) -> bytes:
    """A sample grid from the weights so far (a training's live picture)."""
    n_classes = generator.config.unet.n_classes
    requested = np.repeat(np.arange(n_classes), per_class)
    return grid_png(generator.sample(requested, seed=seed), requested, n_classes)


def load(path: str | Path, *, expected_config: dict | None = None):
    """The generator stored at ``path``; InvalidInput when the file is missing, is no generator's,
    or holds another architecture than ``expected_config`` (the version's own)."""
    from mlcore.generative.diffusion import DiffusionGenerator, GeneratorWeightsError

    try:
        generator = DiffusionGenerator.load(path)
    except FileNotFoundError:
        raise InvalidInput(f"the weights file {Path(path).name} is missing")
    except GeneratorWeightsError as exc:
        raise InvalidInput(str(exc))
    if expected_config and generator.config.unet != config_from_dict(expected_config).unet:
        raise InvalidInput(f"{Path(path).name} holds another architecture than the version it belongs to")
    return generator


def sample(generator, classes: list[int], *, guidance: float, seed: int) -> np.ndarray:
    """(N,) class indices -> (N, 1, S, S) images in [0, 1]."""
    return generator.sample(np.asarray(classes, dtype=np.int64), guidance=guidance, seed=seed)


@dataclass
class Evaluation:
    metrics: dict
    grid_png: bytes  # samples, one row per class
    properties_png: bytes  # flux, extent and components of the samples against the held-out images


def evaluate(
    generator, *, x_train, x_test, y_test, per_class: int, seed: int = 0, classes: list[str] | None = None, judge=None
) -> Evaluation:
    """Measures that need no classifier (memorisation, KS of source properties, diversity against
    the real test images of each class), those measured with the survey's classifier ``judge``
    (see ``judged_metrics``), a sample grid and the property distributions plotted."""
    from mlcore.generative.plots import properties_png

    n_classes = generator.config.unet.n_classes
    requested = np.repeat(np.arange(n_classes), per_class)
    samples = generator.sample(requested, seed=seed)
    result = sample_metrics(samples, requested, x_train=x_train, x_test=x_test, y_test=y_test, seed=seed)
    names = classes or [str(k) for k in range(n_classes)]
    result.update(judged_metrics(judge, samples, requested, names, x_train=x_train, x_test=x_test, y_test=y_test))
    plotted = properties_png({"real (held out)": x_test, "generated": samples})
    return Evaluation(metrics=result, grid_png=grid_png(samples, requested, n_classes), properties_png=plotted)


def loss_curve_png(history: list[dict]) -> bytes:
    from mlcore.generative.plots import loss_curve_png as draw

    return draw(history)


def sample_metrics(samples, requested, *, x_train, x_test, y_test, seed: int = 0) -> dict:
    """Memorisation, KS statistics of source properties and diversity ratios of ``samples``."""
    from mlcore.generative import metrics

    per_class = int(np.bincount(requested).max()) if len(requested) else 0
    memorised, memorised_real = metrics.memorisation_share(samples, x_train, x_test, seed=seed)
    result = {
        "samples_per_class": per_class,
        "memorisation": memorised,
        "memorisation_real": memorised_real,
        **{f"ks_{k}": v for k, v in metrics.property_ks(x_test, samples).items()},
    }
    for k in np.unique(requested):
        real, mine = x_test[y_test == k], samples[requested == k]
        if len(real) >= 2:  # a class may have no held-out image at all
            real, mine = real.reshape(len(real), -1), mine.reshape(len(mine), -1)
            result[f"diversity_ratio_{k}"] = metrics.diversity(mine) / max(metrics.diversity(real), 1e-12)
    return result


NO_JUDGE = "no active classifier for this survey: Frechet distance and class consistency not measured"


def judged_metrics(judge, samples, requested, classes: list[str], *, x_train, x_test, y_test) -> dict:
    """Frechet distance in the classifier's feature space (overall, per class, and the real train
    vs held-out floor) and class consistency (the share of samples it assigns to the class asked
    for, beside the same share of real held-out images), over the classes it predicts. Without a
    classifier: ``judge`` None and the reason, no numbers."""
    from mlcore.generative import metrics

    if judge is None:
        return {"judge": None, "judge_note": NO_JUDGE}
    known = [k for k, name in enumerate(classes) if name in judge.classes]
    result: dict = {
        "judge": {"id": judge.version_id, "label": judge.version_label, "classes": list(judge.classes)},
        "judged_classes": [classes[k] for k in known],
    }
    features, test_features = judge.features(samples), judge.features(x_test)
    result["fd"] = metrics.frechet_distance(features, test_features)
    result["fd_real_floor"] = metrics.frechet_distance(judge.features(x_train), test_features)
    for k, name in enumerate(classes):
        mine, theirs = features[requested == k], test_features[y_test == k]
        if len(mine) >= 2 and len(theirs) >= 2:
            result[f"fd_{name}"] = metrics.frechet_distance(mine, theirs)
    if not known:
        result["judge_note"] = f"{judge.version_label} predicts none of {classes}: class consistency not measured"
        return result
    to_judge = np.array([judge.classes.index(name) if name in judge.classes else -1 for name in classes])
    judged = np.isin(requested, known)
    result["class_consistency"] = metrics.class_consistency(
        judge.predict_proba(samples[judged]), to_judge[requested[judged]]
    )
    real = np.isin(y_test, known)
    if real.any():
        result["class_consistency_real"] = metrics.class_consistency(
            judge.predict_proba(x_test[real]), to_judge[y_test[real]]
        )
    return result


def grid_png(images: np.ndarray, classes: np.ndarray, n_classes: int, per_row: int = 8) -> bytes:
    """A grid of samples, one row per class (display orientation: north up)."""
    from PIL import Image

    size = images.shape[-1]
    per_row = max(1, min(per_row, max(int((classes == k).sum()) for k in range(n_classes))))
    canvas = np.zeros((n_classes * size, per_row * size), dtype=np.float32)
    for k in range(n_classes):
        for i, image in enumerate(images[classes == k][:per_row]):
            canvas[k * size : (k + 1) * size, i * size : (i + 1) * size] = image[0][::-1]
    buffer = io.BytesIO()
    Image.fromarray((np.clip(canvas, 0, 1) ** 0.5 * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def median_peak(images: np.ndarray) -> float:
    """The median brightest pixel of prepared images (N, 1, S, S)."""
    from mlcore.generative.brightness import median_peak as peak

    return peak(images)


def sky_image(image: np.ndarray, *, shape: tuple[int, int] | None = None):
    """(1, S, S) or (S, S) generated pixels -> the image type ingestion renders (no WCS: a
    generated source has no place on the sky). With ``shape`` (height, width) the pixels are
    resampled back to the size of the cutouts the generator learned from, whose field it covers,
    so that the survey's pixel scale holds for it as for them."""
    from mlcore.io import SkyImage
    from mlcore.ssl.data import resample

    data = np.asarray(image, dtype=np.float32).reshape(image.shape[-2:])
    if shape is not None:
        data = resample(data[None], shape)[0]
    return SkyImage(data=data, format="fits", notes=["generated by the diffusion model: synthetic"])
