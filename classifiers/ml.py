"""The bridge from the classifiers app to mlcore.ssl: cutout rows in, arrays, metrics and files out.

torch is imported inside the functions, so the web process starts without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from annotations.ml import ImageReadError, read_cutout_image
from annotations.models import Cutout
from annotations.synthetic import DRAWN_PEAK, GENERATOR_MEDIAN_PEAK
from mlcore.active.policy import AcquisitionPolicy
from mlcore.active.policy import combined_priority as policy_priority
from mlcore.active.policy import explain as policy_explain
from mlcore.active.policy import gold_rate as policy_gold_rate
from mlcore.active.policy import select_batch as policy_select_batch
from mlcore.active.scores import knn_novelty as mlcore_knn_novelty
from mlcore.similarity import FeatureIndex


@dataclass
class CutoutArrays:
    x: np.ndarray  # (N, C, S, S) float32 in [0, 1], one channel per image layer
    ids: list[int]  # cutout ids of the rows of x
    errors: list[str] = field(default_factory=list)  # cutouts that could not be used, with the reason


RADIO = "radio"  # the cutout's own image; any other name is one of its layers (annotations.CutoutLayer)


def _layer_plane(cutout: Cutout, band: str) -> np.ndarray:
    """(H, W) float32 in FITS orientation: the radio image, or a layer on the radio frame."""
    if band == RADIO:
        return read_cutout_image(cutout.source_file.path).data
    layer = next((item for item in cutout.layers.all() if item.band == band), None)
    if layer is None:
        raise ValueError(f"it has no {band} layer")
    with layer.pixels.open("rb") as handle:
        raster = np.frombuffer(handle.read(), dtype="<u2").reshape(cutout.height, cutout.width)
    return np.flipud(raster).astype(np.float32)  # raster rows run top-down


def cutout_arrays(
    cutouts: list[Cutout],
    *,
    size: int,
    layers: tuple[str, ...] | list[str] = (RADIO,),
    progress: Callable[[int, int], None] | None = None,
) -> CutoutArrays:
    """Read each cutout's image layers and prepare them for the network, one channel per layer;
    unreadable, blank or corrupt images and missing layers are skipped and reported by name."""
    from mlcore.ssl.data import BadImageError, clip_and_scale, resample

    rows, ids, errors = [], [], []
    for done, cutout in enumerate(cutouts, start=1):
        try:
            planes = [resample(clip_and_scale(_layer_plane(cutout, band))[None], size)[0] for band in layers]
            rows.append(np.stack(planes))  # (C, S, S)
            ids.append(cutout.pk)
        except (ImageReadError, BadImageError, OSError, ValueError) as exc:
            errors.append(f"cutout {cutout.pk} ({cutout.name}): {exc}")
        if progress is not None and (done % 50 == 0 or done == len(cutouts)):
            progress(done, len(cutouts))
    x = np.stack(rows) if rows else np.zeros((0, len(layers), size, size), np.float32)
    return CutoutArrays(x=x.astype(np.float32), ids=ids, errors=errors)


def synthetic_brightness_matched(arrays: CutoutArrays, generated: dict[int, Cutout]) -> tuple[CutoutArrays, dict]:
    """The rows of ``generated`` cutouts (id -> cutout) with the real rows' brightness: the
    pipeline scaled each to a peak of 1 before resampling it; it is scaled again by its drawn peak,
    carried to this size by the real images' median peaks at the two sizes
    (``mlcore.generative.brightness``). Generated cutouts without a
    recorded brightness (made before it was recorded) keep the pipeline's. Returns the arrays and
    what was done: ``real_median_peak`` here, ``matched`` and ``unmatched`` counts."""
    from mlcore.generative.brightness import matched_peak, median_peak

    rows = [i for i, pk in enumerate(arrays.ids) if pk in generated]
    real = [i for i, pk in enumerate(arrays.ids) if pk not in generated]
    real_median = median_peak(arrays.x[real, 0]) if real else float("nan")
    x, matched = arrays.x.copy(), 0
    for i in rows:
        hidden = generated[arrays.ids[i]].metadata or {}
        drawn, reference = hidden.get(DRAWN_PEAK), hidden.get(GENERATOR_MEDIAN_PEAK)
        numbers = isinstance(drawn, (int, float)) and isinstance(reference, (int, float))
        if not (real and numbers and drawn > 0 and reference > 0):
            continue
        x[i, 0] *= matched_peak(drawn, reference, real_median)  # the pipeline scaled it to a peak of 1
        matched += 1
    summary = {"real_median_peak": real_median if real else None, "matched": matched}
    return replace(arrays, x=x), {**summary, "unmatched": len(rows) - matched}


def config_for(*, method: str, epochs: int, seed: int = 0, n_classes: int = 2, overrides: dict | None = None):
    """The published FixMatch settings with this run's method, epochs and class count."""
    from mlcore.ssl.config import FixMatchConfig, NetworkConfig

    overrides = dict(overrides or {})
    network = {"n_classes": n_classes, **(overrides.pop("network", None) or {})}
    data = {"method": method, "epochs": epochs, "seed": seed, "network": NetworkConfig(**network)}
    data.update(overrides)
    return FixMatchConfig.from_dict(data)


def config_from_dict(data: dict):
    from mlcore.ssl.config import FixMatchConfig

    return FixMatchConfig.from_dict(data)


def train(config, *, x, y, x_unlabelled, x_val, y_val, checkpoint_path: Path, progress, warm_weights: str = ""):
    """Fit (resuming from ``checkpoint_path`` when a checkpoint of the same settings is there);
    with ``warm_weights`` (a weights file of the same architecture) it starts from those weights
    instead of random ones, with a fresh optimiser."""
    from mlcore.ssl.estimator import SSLClassifier

    if warm_weights:
        clf = SSLClassifier.load(warm_weights, device="auto", config=config)
        clf.config, clf.warm_start = config, True
        clf.checkpoint_path, clf.progress = checkpoint_path, progress
    else:
        clf = SSLClassifier(config, device="auto", checkpoint_path=checkpoint_path, progress=progress)
    return clf.fit(x, y, x_unlabelled if len(x_unlabelled) else None, x_val if len(x_val) else None, y_val)


def evaluate(clf, *, x, y, classes: list[str], x_labelled, x_unlabelled) -> tuple[dict, dict[str, bytes]]:
    """Test metrics (ECE over ``config.ece_bins`` equal-width bins) and the plots as PNG bytes."""
    from mlcore.ssl.metrics import classification_metrics, frechet_distance
    from mlcore.ssl.plots import confusion_png, reliability_diagram_png, training_curves_png

    metrics = classification_metrics(clf.predict_proba(x), y, n_bins=clf.config.ece_bins, class_names=classes)
    fd = None
    if len(x_labelled) >= 2 and len(x_unlabelled) >= 2:
        fd = frechet_distance(clf.features(x_labelled), clf.features(x_unlabelled))
    metrics["frechet_distance"] = fd
    plots = {
        "reliability": reliability_diagram_png(metrics["reliability"], title=f"ECE {metrics['ece']:.3f}"),
        "curves": training_curves_png(clf.history_),
        "confusion": confusion_png(metrics["confusion"], classes),
    }
    return metrics, plots


@dataclass
class TrainingArrays:
    """The images of one training, read and prepared: labelled, validation, test, unlabelled."""

    train: CutoutArrays
    val: CutoutArrays
    test: CutoutArrays
    pool: CutoutArrays
    y_train: np.ndarray  # (N,) int64 class indices
    y_val: np.ndarray
    y_test: np.ndarray


@dataclass
class FittedClassifier:
    clf: object
    metrics: dict
    plots: dict[str, bytes]
    notes: list[str] = field(default_factory=list)


def fit_and_evaluate(
    config, arrays: TrainingArrays, *, classes: list[str], checkpoint_path: Path, progress, warm_weights: str = ""
):
    """Fit (resuming from a checkpoint, or from ``warm_weights``), then evaluate on the fixed test
    split (the validation split when a survey has no test labels yet, the training labels when it
    has neither)."""
    clf = train(
        config,
        x=arrays.train.x,
        y=arrays.y_train,
        x_unlabelled=arrays.pool.x,
        x_val=arrays.val.x,
        y_val=arrays.y_val,
        checkpoint_path=checkpoint_path,
        progress=progress,
        warm_weights=warm_weights,
    )
    notes = [f"resumed from the checkpoint of epoch {clf.resumed_from_epoch_}"] if clf.resumed_from_epoch_ else []
    if warm_weights:
        notes.append("warm-started from the weights of the version it follows")
    x_eval, y_eval, split = (
        (arrays.test.x, arrays.y_test, "test") if len(arrays.y_test) else (arrays.val.x, arrays.y_val, "val")
    )
    if len(y_eval) == 0:
        x_eval, y_eval, split = arrays.train.x, arrays.y_train, "train"
        notes.append("no validation or test labels: metrics are on the training labels")
    metrics, plots = evaluate(
        clf, x=x_eval, y=y_eval, classes=classes, x_labelled=arrays.train.x, x_unlabelled=arrays.pool.x
    )
    metrics.update(
        {
            "split": split,
            "n_train": len(arrays.y_train),
            "n_unlabelled": len(arrays.pool.ids),
            "epochs": len(clf.history_),
            # the weights evaluated: the best validation accuracy's (the last epoch's without validation labels)
            "selected_epoch": clf.selected_epoch_,
            "best_val_accuracy": clf.best_val_accuracy_,
        }
    )
    return FittedClassifier(clf=clf, metrics=metrics, plots=plots, notes=notes)


def save_weights(clf, path: Path) -> None:
    clf.save(path)


def load_classifier(path: str, config_dict: dict):
    """Weights of a stored version; ``mlcore.ssl.checkpoint.WeightsError`` when they do not fit."""
    from mlcore.ssl.config import FixMatchConfig
    from mlcore.ssl.estimator import SSLClassifier

    return SSLClassifier.load(path, device="auto", config=FixMatchConfig.from_dict(config_dict))


def weights_problem(path: str, config_dict: dict) -> str:
    """Why a weights file does not load into the version's architecture; empty when it does."""
    try:
        load_classifier(path, config_dict)
    except weights_error_type() as exc:
        return str(exc)
    return ""


def weights_error_type():
    from mlcore.ssl.checkpoint import WeightsError

    return WeightsError


def training_data_error_type():
    from mlcore.ssl.estimator import TrainingDataError

    return TrainingDataError


def scores(clf, x: np.ndarray, classes: list[str]) -> list[dict]:
    """Per image: class probabilities, prediction, entropy, margin and MC-dropout BALD (nats)."""
    from mlcore.ssl.uncertainty import bald, margin, predictive_entropy

    proba = clf.predict_proba(x)
    mc = clf.mc_dropout_proba(x)
    entropy, gap, mutual = predictive_entropy(proba), margin(proba), bald(mc)
    out = []
    for i in range(len(x)):
        out.append(
            {
                "probabilities": {name: round(float(p), 5) for name, p in zip(classes, proba[i], strict=True)},
                "prediction": classes[int(proba[i].argmax())],
                "entropy": round(float(entropy[i]), 5),
                "margin": round(float(gap[i]), 5),
                "bald": round(float(mutual[i]), 5),
            }
        )
    return out


def explain(clf, image: np.ndarray, classes: list[str], *, num_samples: int, seed: int = 0, progress=None) -> dict:
    """LIME over superpixels of one prepared (1, S, S) image: the explained class, its
    probability, the segment weights and the overlay as PNG bytes; ``progress(done, total)``
    follows the perturbed samples."""
    from mlcore.ssl.explain import explanation_png, lime_explanation

    proba = clf.predict_proba(image[None])[0]
    result = lime_explanation(
        lambda batch: clf.predict_proba(batch[:, None]), image[0], num_samples=num_samples, seed=seed, progress=progress
    )
    label = classes[result["label"]]
    png = explanation_png(
        image[0], result["segments"], result["weights"], title=f"{label} ({proba[result['label']]:.2f})", origin="lower"
    )
    top = sorted(result["weights"].items(), key=lambda kv: -abs(kv[1]))[:10]
    return {
        "label": label,
        "probabilities": {name: float(p) for name, p in zip(classes, proba, strict=True)},
        "segments": int(result["segments"].max()) + 1,
        "top_segments": [{"segment": s, "weight": w} for s, w in top],
        "png": png,
    }


def resampled(x: np.ndarray, size: int) -> np.ndarray:
    """(N, 1, S, S) -> (N, 1, size, size), as real cutouts are resampled for the network."""
    from mlcore.ssl.data import resample

    return x if x.shape[-1] == size else resample(x[:, 0], size)[:, None]


def features(clf, x: np.ndarray) -> np.ndarray:
    """(N, 1, S, S) -> (N, D) float32 penultimate-layer features of a loaded classifier."""
    return np.asarray(clf.penultimate_features(x), dtype=np.float32)


def policy_from_dict(values: dict):
    """The library's acquisition policy from stored settings (ValueError when they are not valid)."""
    return AcquisitionPolicy.from_dict(values)


def policy_default() -> dict:
    return AcquisitionPolicy().to_dict()


def policy_without_exploration(policy):
    """The same policy serving nothing at random: the stored order (exploration is drawn at serve time)."""
    return replace(policy, exploration=0.0)


def combined_priority(policy, scores: dict[str, np.ndarray]) -> np.ndarray:
    return policy_priority(policy, scores)


def explain_priority(policy, scores: dict[str, np.ndarray], i: int) -> dict:
    return policy_explain(policy, scores, i)


def select_batch(policy, scores: dict[str, np.ndarray], x_features, n: int, seed: int):
    """Indices (n',) and reasons ("exploration", "priority", "diversity") of the next batch."""
    return policy_select_batch(policy, scores, x_features, n, np.random.default_rng(seed))


def gold_rate(policy, answered: int) -> float:
    return float(policy_gold_rate(policy, answered))


def knn_novelty(x_features: np.ndarray, k: int = 10) -> np.ndarray:
    """(N, D) -> (N,) mean distance to the k nearest other rows (large = novel)."""
    return mlcore_knn_novelty(x_features, k=k)


def nearest_index(x_features: np.ndarray) -> FeatureIndex:
    """An exact k-nearest-neighbour index over (N, D) features (``query(vector, k, exclude)``)."""
    return FeatureIndex(x_features)


def encoder_config(settings: dict) -> dict:
    """The full settings of a survey encoder: EncoderConfig's defaults with these replaced
    (ValueError when one is unknown or out of range)."""
    from mlcore.features import EncoderConfig

    return EncoderConfig.from_dict(settings).as_dict()


def encoder_fit(config: dict, x: np.ndarray, progress: Callable[[int, int, float], None]):
    """Train a contrastive encoder on (N, 1, S, S) prepared cutouts; ``progress(step, steps, loss)``."""
    from mlcore.features import ContrastiveEncoder, EncoderConfig

    return ContrastiveEncoder(EncoderConfig.from_dict(config), progress=progress).fit(x)


def encoder_embed(encoder, x: np.ndarray) -> np.ndarray:
    """(N, 1, S, S) -> (N, D) float32 features (averaged over the 8 right-angle views)."""
    return np.asarray(encoder.embed(x), dtype=np.float32)


def encoder_save(encoder, path: Path) -> None:
    encoder.save(path)
