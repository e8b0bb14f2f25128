"""How realistic generated radio sources are: the diffusion model (residual attention U-Net), the
same with diffusers' plain U-Net (ablation), and the conditional VAE baseline, side by side in one
run on firstgalaxydata's own train / test split, several seeds.

Data: firstgalaxydata's FRI, FRII, Compact and Bent images, the central 150 x 150 pixels (1.8
arcsec each, as MiraBest's crops), noise-clipped at 3 sigma and scaled to [0, 1] as the
classifier's pipeline does, resampled to --size pixels a side.

Judges (after GalCatDiff, arXiv:2506.16255, and Bastien et al. 2021, arXiv:2102.01007), all from
the platform's own classifier network:
- a 4-class classifier trained on the real training split: its penultimate features give the
  Frechet distance (overall and per class; the train-vs-test distance of real images is the
  floor) and the diversity within each class; its predictions give class consistency;
- an FRI / FRII classifier trained on MiraBest Confident: RAMIS on the generated FRI and FRII
  samples, with the real test images' RAMIS as the ceiling;
- KS statistics of integrated flux, largest extent and number of components against the real test
  set; memorisation: the share of samples nearer a training image than any test image.

The VAE trains for the diffusion model's wall time: a fixed number of VAE steps per diffusion step,
measured on this machine kind for each preset and size (``VAE_STEPS_PER_DIFFUSION_STEP``), so that
the same command gives the same figures. ``--vae-step-ratio calibrate`` measures it again (the
figure is printed and kept in the JSON; its runs then depend on the machine's timing).

Every model's samples are judged as the platform uses them: through the cutout pipeline every
image takes before a classifier sees it (noise-clipped at 3 sigma, scaled to a peak of 1), against
the real images through the same pipeline (resampled below their own size, the real images' peaks
fall, to 0.38 on average at 32 px, and the pipeline lifts them back to 1). The same measures of the
samples as drawn, against the real images as the generators were trained on them, follow under
``*_raw`` keys (the references too), and the samples themselves are kept in bench/out/ (npz);
``--rejudge`` judges a run's kept samples again without training anything. The
diffusion models clip their samples' background noise (``noise_clip``, 3 sigma by default); the
same draws without that clip are judged too, under ``*_noclip`` keys.

Below 64 px (``--size 32``) the generators work at that size and the judges, whose network
needs 64 px, read every image, real or generated, resampled to 64 px.

    python bench/generative_eval.py --quick
    python bench/generative_eval.py --preset cpu --seeds 0 1 2 --threads 2
    python bench/generative_eval.py --merge seed0.json seed1.json --out both.json   # runs of one seed each
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402

from mlcore.generative.config import NOISE_ESTIMATES, DiffusionConfig  # noqa: E402

CLASSES = ("FRI", "FRII", "Compact", "Bent")
OUT = _data.ROOT / "bench" / "out"
FIGURES = _data.ROOT / "bench" / "figures"
# VAE training steps per diffusion training step, by (preset, image size): what step_cost measured
# (``--vae-step-ratio calibrate``) at 2 threads, 64 px on an AMD EPYC, 32 px and --quick's tiny
# models at 64 px on an Intel Xeon (--quick: 19.8 and 20.5 in two runs, recorded as 20).
VAE_STEPS_PER_DIFFUSION_STEP = {("cpu", 64): 23.2, ("cpu", 32): 14.0536, ("tiny", 64): 20.0}


def firstgalaxydata_prepared(size: int, limit: int | None = None) -> dict:
    """{"train": (x, y), "test": (x, y)}: (N, 1, size, size) in [0, 1], labels 0..3 (CLASSES)."""
    from mlcore.ssl.data import prepare_images

    images, labels, splits = _data.firstgalaxydata_arrays(limit=limit)
    out = {}
    for key, split in (("train", "train"), ("test", "test")):
        rows = splits == split
        x, bad = prepare_images(images[rows][:, 75:225, 75:225], size=size)
        y = np.delete(np.array([CLASSES.index(label) for label in labels[rows]]), bad)
        out[key] = (x, y)
    return out


def mirabest_prepared(size: int) -> tuple[np.ndarray, np.ndarray]:
    """MiraBest Confident (FRI 0, FRII 1), prepared at ``size``."""
    from mlcore.ssl.data import prepare_images

    images, codes = _data.mirabest_arrays()
    confident = {"100": 0, "102": 0, "104": 0, "200": 1, "201": 1}
    rows = np.isin(codes, list(confident))
    x, bad = prepare_images(images[rows], size=size)
    y = np.delete(np.array([confident[c] for c in codes[rows]]), bad)
    return x, y


def train_judge(
    x, y, n_classes: int, size: int, steps: int | None, epochs: int, seed: int = 0, cache: Path | None = None
):
    """The platform's classifier trained as a judge; with ``cache`` (a weights file) it is trained
    once and read back by later runs with the same settings."""
    from mlcore.ssl.config import FixMatchConfig, NetworkConfig
    from mlcore.ssl.estimator import SSLClassifier

    config = FixMatchConfig(
        method="supervised",
        network=NetworkConfig(image_size=size, n_classes=n_classes),
        epochs=epochs,
        max_steps=steps,
        batch_size=32,
        lr=1e-3,
        seed=seed,
    )
    if cache is not None and cache.is_file():
        judge_ = SSLClassifier.load(cache, device="cpu")
        if judge_.config == config:
            return judge_
    judge_ = SSLClassifier(config, device="cpu").fit(x, y)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        judge_.save(cache)
    return judge_


JUDGE_SIZE = 64  # the smallest image the platform's classifier network takes


class Upsampled:
    """A judge trained at ``JUDGE_SIZE`` reading smaller images: each is resampled (bilinear) to
    that size first, real and generated alike, so that both carry the same detail."""

    def __init__(self, classifier):
        self.classifier = classifier

    @staticmethod
    def upsample(images: np.ndarray) -> np.ndarray:
        from mlcore.ssl.data import resample

        return resample(images[:, 0], JUDGE_SIZE)[:, None]

    def features(self, images):
        return self.classifier.features(self.upsample(images))

    def predict_proba(self, images):
        return self.classifier.predict_proba(self.upsample(images))

    def predict(self, images):
        return self.classifier.predict(self.upsample(images))


def trained_judges(real, mirabest, size: int, steps, epochs: int, cache: Path | None) -> tuple:
    """The 4-class and FRI / FRII judges; below ``JUDGE_SIZE`` they train on the real images
    resampled to it and read every image the same way."""
    small = size < JUDGE_SIZE
    suffix = f"-from{size}px" if small else ""
    (x, y), (x_mb, y_mb) = real["train"], mirabest
    if small:
        x, x_mb = Upsampled.upsample(x), Upsampled.upsample(x_mb)
    judge_size = max(size, JUDGE_SIZE)
    judges = (
        train_judge(x, y, len(CLASSES), judge_size, steps, epochs, cache=cache and cache / f"judge-4class{suffix}.pt"),
        train_judge(x_mb, y_mb, 2, judge_size, steps, epochs, cache=cache and cache / f"judge-frii{suffix}.pt"),
    )
    return tuple(Upsampled(j) for j in judges) if small else judges


def balanced_classes(per_class: int, n_classes: int) -> np.ndarray:
    return np.repeat(np.arange(n_classes), per_class)


def cutout_pipeline(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Samples as the platform prepares every cutout before a classifier sees it (noise-clipped
    at 3 sigma and scaled to a peak of 1, ``mlcore.ssl.data.clip_and_scale``), which is also what
    the real images went through; a blank sample (nothing above its noise) stays blank. Returns
    the images and the number of blank ones."""
    from mlcore.ssl.data import BadImageError, clip_and_scale

    out, blank = np.zeros_like(samples), 0
    for i, sample in enumerate(samples):
        try:
            out[i, 0] = clip_and_scale(sample[0])
        except BadImageError:
            blank += 1
    return out, blank


def judge(samples, classes, real, judges) -> dict:
    """Every measure of one set of samples against the real test split."""
    from mlcore.generative import metrics

    (x_train, _), (x_test, y_test) = real["train"], real["test"]
    classifier, fr_classifier = judges
    features = classifier.features(samples)
    test_features = classifier.features(x_test)
    row = {
        "fd": metrics.frechet_distance(features, test_features),
        "class_consistency": metrics.class_consistency(classifier.predict_proba(samples), classes),
    }
    for k, name in enumerate(CLASSES):
        mine, theirs = features[classes == k], test_features[y_test == k]
        if len(mine) >= 2 and len(theirs) >= 2:
            row[f"fd_{name}"] = metrics.frechet_distance(mine, theirs)
            row[f"diversity_ratio_{name}"] = metrics.diversity(mine) / max(metrics.diversity(theirs), 1e-12)
    fr = np.isin(classes, [0, 1])
    row["ramis"] = metrics.ramis(fr_classifier.predict_proba(samples[fr]))
    row.update({f"ks_{k}": v for k, v in metrics.property_ks(x_test, samples).items()})
    row["memorisation"], row["memorisation_real"] = metrics.memorisation_share(samples, x_train, x_test)
    return row


def real_references(real, judges, suffix: str = "") -> dict:
    from mlcore.generative import metrics

    (x_train, _), (x_test, y_test) = real["train"], real["test"]
    classifier, fr_classifier = judges
    fr = np.isin(y_test, [0, 1])
    out = {
        "fd_real_floor": metrics.frechet_distance(classifier.features(x_train), classifier.features(x_test)),
        "ramis_real": metrics.ramis(fr_classifier.predict_proba(x_test[fr])),
        "class_consistency_real": metrics.class_consistency(classifier.predict_proba(x_test), y_test),
    }
    return {key + suffix: value for key, value in out.items()}


def through_pipeline(real: dict) -> dict:
    """The real splits after the cutout pipeline, as the samples after it are judged against."""
    return {split: (cutout_pipeline(x)[0], y) for split, (x, y) in real.items()}


# After the cutout pipeline a real firstgalaxydata source covers at most about 13 % of its frame
# (32 px; 10 % of the test images' at most): a sample whose emission covers more than a quarter is
# background the clip let through (a lifted plate or speckle), not a source.
SPECKLED_COVER = 0.25


def emission_cover(images: np.ndarray) -> np.ndarray:
    """The share of each image's pixels above zero after the cutout pipeline."""
    return (images.reshape(len(images), -1) > 0).mean(axis=1)


def cover_measures(images: np.ndarray, suffix: str = "") -> dict:
    cover = emission_cover(images)
    return {
        f"emission_cover{suffix}": float(cover.mean()),
        f"speckled_share{suffix}": float((cover > SPECKLED_COVER).mean()),
    }


def judged(kept: dict, classes, real, real_piped, judges) -> dict:
    """A row of every measure of one model's draws: ``kept["raw"]`` after the cutout pipeline
    against the real images after it (plain keys), as drawn against the real images as prepared
    (``*_raw``), and, where kept, the same draws without the background clip (``*_noclip``)."""
    samples, blank = cutout_pipeline(kept["raw"])
    row = {"blank_share": blank / len(samples), **cover_measures(samples)}
    row.update(judge(samples, classes, real_piped, judges))
    variants = {"raw": (kept["raw"], real)}
    if kept.get("noclip") is not None:
        variants["noclip"] = (cutout_pipeline(kept["noclip"])[0], real_piped)
        row.update(cover_measures(variants["noclip"][0], "_noclip"))
    for suffix, (images, against) in variants.items():
        more = judge(images, classes, against, judges)
        more.pop("memorisation_real")  # a property of the real images alone
        row.update({f"{key}_{suffix}": value for key, value in more.items()})
    return row


def train_generators(
    real, config, seed: int, vae_hidden, progress=print, checkpoints: Path | None = None, vae_ratio: float | None = None
) -> tuple[dict, float]:
    """The three generators of one seed, {name: (generator, train seconds)}, and the VAE's training
    steps per diffusion step. With ``checkpoints`` the diffusion models write a checkpoint every
    epoch there and a rerun resumes them. ``vae_ratio`` None measures it here."""
    from mlcore.generative.config import VAEConfig
    from mlcore.generative.diffusion import DiffusionGenerator
    from mlcore.generative.vae import VAEGenerator

    x, y = real["train"]
    out = {}
    for name, network in (("diffusion", "rab"), ("unet", "plain")):
        run = replace(config, seed=seed, unet=replace(config.unet, network=network))

        def report(epoch, total, row, name=name):
            left = row["seconds"] * (total - epoch)
            progress(
                f"seed {seed} {name}: epoch {epoch}/{total}, loss {row['loss']:.4f}, about {left / 60:.0f} min left"
            )

        path = checkpoint_path(checkpoints, name, seed) if checkpoints else None
        generator = DiffusionGenerator(run, checkpoint_path=path, progress=report).fit(x, y)
        seconds = sum(row["seconds"] for row in generator.history_)  # across resumes
        out[name] = (generator, seconds)
        progress(f"seed {seed}: {name} trained in {seconds:.1f} s, loss {generator.history_[-1]['loss']:.4f}")
    # The VAE gets the diffusion model's training time on an idle machine. When measured, the cost of
    # one step of each is timed back to back, so a machine shared with other work while the
    # diffusion model trained does not inflate the VAE's budget.
    base = VAEConfig(
        image_size=config.unet.image_size, n_classes=len(CLASSES), hidden=vae_hidden, batch_size=32, seed=seed
    )
    diffusion_steps = out["diffusion"][0].history_[-1]["step"]
    diffusion_run = replace(config, seed=seed, unet=replace(config.unet, network="rab"))
    ratio = vae_ratio
    if ratio is None:
        ratio = step_cost(lambda n: DiffusionGenerator(replace(diffusion_run, max_steps=n)), x, y) / step_cost(
            lambda n: VAEGenerator(replace(base, epochs=10**6, max_steps=n)), x, y
        )
    steps = max(10, int(diffusion_steps * ratio))
    started = time.perf_counter()
    vae = VAEGenerator(replace(base, epochs=10**6, max_steps=steps), progress=vae_reporter(seed, steps, progress))
    out["vae"] = (vae.fit(x, y), time.perf_counter() - started)
    progress(f"seed {seed}: vae trained {steps} steps ({ratio:.2f} per diffusion step) in {out['vae'][1]:.1f} s")
    return out, ratio


def vae_reporter(seed: int, total_steps: int, progress, every_seconds: float = 60.0):
    """An epoch callback for the VAE that reports its step and the time left about once a minute
    (its epochs take a fraction of a second, and its whole training as long as a diffusion model's)."""
    started = time.monotonic()
    last = [started]

    def report(epoch, total_epochs, row):
        now = time.monotonic()
        if row["step"] < total_steps and now - last[0] < every_seconds:
            return
        last[0] = now
        left = (now - started) / row["step"] * (total_steps - row["step"])
        progress(
            f"seed {seed} vae: step {row['step']}/{total_steps}, loss {row['loss']:.1f}, about {left / 60:.0f} min left"
        )

    return report


def vae_step_ratio(option: str | None, preset_name: str, size: int) -> float | None:
    """The VAE's steps per diffusion step for a run: a number given, the one recorded for the preset
    and size, or None (measure it) for "calibrate" or a preset and size with none recorded."""
    if option is None:
        return VAE_STEPS_PER_DIFFUSION_STEP.get((preset_name, size))
    if option == "calibrate":
        return None
    try:
        ratio = float(option)
    except ValueError:
        ratio = float("nan")
    if not ratio > 0:
        raise SystemExit(f"--vae-step-ratio: expected a positive number or 'calibrate', got {option!r}")
    return ratio


def step_cost(make, x, y, steps: int = 16) -> float:
    """Median seconds of one training step of ``make(steps)`` on 128 images (epochs of 4 steps at
    batch 32), its first epoch (warm-up) left out."""
    history = make(steps).fit(x[:128], y[:128]).history_
    per_step = [
        row["seconds"] / max(1, row["step"] - previous["step"])
        for previous, row in zip([{"step": 0}, *history], history, strict=False)
    ]
    return float(np.median(per_step[1:] or per_step))


def summarise(rows: list[dict], references: dict) -> dict:
    """Means (and spreads over seeds) with the JSON keys the README names."""
    result = dict(references)
    for model in ("diffusion", "unet", "vae"):
        mine = [r for r in rows if r["model"] == model]
        for key in sorted({k for r in mine for k in r if k not in ("model", "seed")}):
            values = [r[key] for r in mine if r.get(key) is not None]
            if not values:
                continue
            name = {"fd": f"fd_{model}", "ramis": f"ramis_{model}"}.get(key, f"{key}_{model}")
            result[name] = float(np.mean(values))
            if len(values) > 1:
                result[name + "_std"] = float(np.std(values))
    result["memorisation_real"] = result.pop("memorisation_real_diffusion", None)
    for model in ("unet", "vae"):
        result.pop(f"memorisation_real_{model}", None)
        result.pop(f"memorisation_real_{model}_std", None)
    result.pop("memorisation_real_diffusion_std", None)
    return result


REFERENCE_KEYS = (
    *(key + suffix for suffix in ("", "_raw") for key in ("fd_real_floor", "ramis_real", "class_consistency_real")),
    "emission_cover_real",
    "speckled_share_real",
)
# The real references differ when the judges or the way the real images are judged differ.
SAME_RUN_KEYS = ("preset", "image_size", "samples_per_class", "judge_test_accuracy", "threads", "fd_real_floor")


def same_value(a, b) -> bool:
    """Equal, or for floats equal to nine digits: the same judges give an FD floor that differs in
    the twelfth digit from run to run (the matrix square root's rounding), other judges in the
    second."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def refuse_different_runs(paths: list[Path], runs: list[dict]) -> None:
    """A CLI error naming the first run that differs from the first one in anything but its seed."""
    first = runs[0]
    for path, run in zip(paths[1:], runs[1:], strict=True):
        differ = [key for key in SAME_RUN_KEYS if not same_value(run["result"].get(key), first["result"].get(key))]
        config = {k: v for k, v in run["config"].items() if k != "seed"}
        if config != {k: v for k, v in first["config"].items() if k != "seed"}:
            differ.append("config")
        if differ:
            raise SystemExit(f"{path}: a different run from {paths[0]} ({', '.join(differ)} differ)")


def merge(paths: list[Path]) -> dict:
    """One summary over the seeds of several runs of the same command (a run per seed, say, when
    the seeds do not fit one sitting): the runs must agree on everything but their seeds."""
    runs = [load_run(path) for path in paths]
    first = runs[0]
    refuse_different_runs(paths, runs)
    rows = [row for run in runs for row in run["rows"]]
    seeds = sorted({row["seed"] for row in rows})
    if len(seeds) * 3 != len(rows):
        raise SystemExit(f"the runs repeat a seed or miss a model: seeds {seeds}, {len(rows)} rows")
    references = {key: first["result"][key] for key in REFERENCE_KEYS if key in first["result"]}
    result = {key: first["result"][key] for key in ("bench", "quick", *SAME_RUN_KEYS)}
    result.update(seeds=len(seeds), merged=[str(path) for path in paths], **summarise(rows, references))
    return {"result": result, "rows": rows, "config": first["config"]}


def by_class(images: np.ndarray, classes: np.ndarray) -> list[np.ndarray]:
    """The images of each class, in CLASSES order: one row of a sample grid each."""
    return [images[classes == k] for k in range(len(CLASSES))]


def plot_samples(grids: dict[str, np.ndarray], path: Path, per_row: int = 8) -> None:
    """One panel per model (rows: classes), the real test images first, two panels a row, on a
    square-root stretch so that faint emission shows as it does on the platform's pages."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    columns = min(2, len(grids))
    panel_rows = -(-len(grids) // columns)
    fig, axes = plt.subplots(panel_rows, columns, figsize=(6.4 * columns, 3.6 * panel_rows), squeeze=False)
    for ax in axes.flat[len(grids) :]:
        ax.axis("off")
    for ax, (name, images) in zip(axes.flat, grids.items(), strict=False):
        rows = []
        for k in range(len(CLASSES)):
            chosen = images[k][:per_row]
            chosen = np.concatenate([chosen, np.zeros((per_row - len(chosen), *chosen.shape[1:]))])
            rows.append(np.concatenate(list(chosen[:, 0]), axis=1))
        ax.imshow(np.concatenate(rows, axis=0), cmap="inferno", norm=PowerNorm(0.5, vmin=0, vmax=1))
        ax.set_title(name)
        size = images[0].shape[-1]
        ax.set_yticks([(k + 0.5) * size for k in range(len(CLASSES))], CLASSES)
        ax.set_xticks([])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def checkpoint_path(checkpoints: Path, model: str, seed: int) -> Path:
    """Where a run keeps a diffusion model of one seed (``diffusion`` or ``unet``)."""
    return checkpoints / f"{model}-seed{seed}.ckpt"


def kept_path(preset_name: str, size: int, model: str, seed: int) -> Path:
    return OUT / f"generative_samples_{run_name(preset_name, size)}_{model}_seed{seed}.npz"


def load_run(path: Path) -> dict:
    """A generative_eval JSON result, or a CLI error naming the file."""
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"{path}: not a generative_eval result ({error})") from None
    if not isinstance(run, dict) or not {"result", "rows", "config"} <= set(run):
        raise SystemExit(f"{path}: not a generative_eval result (no result, rows and config)")
    return run


def rejudge(args, run, config, real, real_piped, judges, references) -> dict:
    """Judge the samples a run kept again (``--out`` names the run's JSON, whose training figures
    stay) without training: draws without the background clip that a run did not keep are drawn
    again from its ``--checkpoints`` and kept."""
    size = config.unet.image_size
    drawn_with = DiffusionConfig.from_dict(run["config"]).noise_estimate  # older runs: the older estimate
    wanted = args.noise_estimate or drawn_with
    rows = []
    for old in run["rows"]:
        name, seed = old["model"], old["seed"]
        path = kept_path(args.preset, size, name, seed)
        if not path.is_file():
            raise SystemExit(f"--rejudge: {path}: the samples of {name}, seed {seed} were not kept")
        with np.load(path) as stored:
            kept = {key: stored[key] for key in stored.files}
        classes = kept.pop("classes")
        if name != "vae" and wanted != drawn_with:
            kept = redrawn(kept, classes, args.checkpoints, name, seed, drawn_with, wanted)
            np.savez_compressed(path, classes=classes, **kept)
        if name != "vae" and config.noise_clip > 0 and "noclip" not in kept:
            if args.checkpoints is None:
                raise SystemExit(f"--rejudge: {path} keeps no draws without the clip; give --checkpoints")
            from mlcore.generative.diffusion import DiffusionGenerator

            checkpoint = checkpoint_path(args.checkpoints, name, seed)
            if not checkpoint.is_file():
                raise SystemExit(f"--rejudge: {checkpoint}: no trained {name} model of seed {seed}")
            kept["noclip"] = DiffusionGenerator.load(checkpoint).sample(classes, seed=seed, noise_clip=0.0)
            np.savez_compressed(path, classes=classes, **kept)
        training = {
            k: v for k, v in old.items() if k in ("model", "seed", "train_seconds", "vae_step_ratio", "train_steps")
        }
        rows.append({**training, **judged(kept, classes, real, real_piped, judges)})
    result = {**run["result"], **summarise(rows, references), "rejudged": True}
    recorded = {**run["config"], "noise_estimate": wanted}
    args.out.write_text(json.dumps({"result": result, "rows": rows, "config": recorded}, indent=1))
    print(json.dumps(result))
    return result


def redrawn(kept: dict, classes, checkpoints: Path | None, name: str, seed: int, before: str, estimate: str) -> dict:
    """A run's kept samples of one diffusion model drawn again from its checkpoint (the same seed
    gives the same draws) with the background clip measured by ``estimate``; the samples it
    replaces stay beside them as ``raw_<estimate they were clipped with>``."""
    from mlcore.generative.diffusion import DiffusionGenerator

    if checkpoints is None:
        raise SystemExit("--rejudge --noise-estimate draws the diffusion samples again: give --checkpoints")
    checkpoint = checkpoint_path(checkpoints, name, seed)
    if not checkpoint.is_file():
        raise SystemExit(f"--rejudge: {checkpoint}: no trained {name} model of seed {seed}")
    samples = DiffusionGenerator.load(checkpoint).sample(classes, seed=seed, noise_estimate=estimate)
    return {**kept, f"raw_{before}": kept["raw"], "raw": samples}


def run_name(preset_name: str, size: int) -> str:
    """Names a run's kept samples and figures: the preset, and the size where it is not the
    preset's own (``cpu32``)."""
    from mlcore.generative.config import PRESETS

    return preset_name if size == PRESETS[preset_name].unet.image_size else f"{preset_name}{size}"


def replot(preset_name: str, seed: int, size: int) -> None:
    """Redraw the sample grids from the samples a full run kept in bench/out/."""
    real = firstgalaxydata_prepared(size)
    grids, raw_grids = {}, {}
    for name in ("diffusion", "unet", "vae"):
        kept = np.load(kept_path(preset_name, size, name, seed))
        raw, classes = kept["raw"], kept["classes"]
        samples = cutout_pipeline(raw)[0]
        grids[name] = by_class(samples, classes)
        raw_grids[name] = by_class(raw, classes)
    real_piped, name = through_pipeline(real), run_name(preset_name, size)
    plot_samples({"real": by_class(*real_piped["test"]), **grids}, FIGURES / f"generative_samples_{name}.png")
    plot_samples({"real": by_class(*real["test"]), **raw_grids}, FIGURES / f"generative_samples_{name}_raw.png")


def plot_properties(sets: dict[str, np.ndarray], path: Path) -> None:
    """Distributions of flux, extent and components: real test images against each model."""
    from mlcore.generative.plots import properties_png

    path.write_bytes(properties_png(sets, dpi=110))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny models on a subset, under 45 s")
    parser.add_argument("--preset", default="cpu", help="generator preset (tiny, cpu, gpu)")
    parser.add_argument("--size", type=int, default=None, help="image size (default: the preset's)")
    parser.add_argument("--epochs", type=int, default=None, help="diffusion training epochs (default: the preset's)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, default=100, help="samples per class and model")
    parser.add_argument("--judge-epochs", type=int, default=30, help="epochs of the judging classifiers")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (part of what a run reproduces)")
    parser.add_argument("--out", type=Path, default=OUT / "generative_eval.json")
    parser.add_argument("--checkpoints", type=Path, default=None, help="folder of resumable diffusion checkpoints")
    parser.add_argument(
        "--vae-step-ratio",
        default=None,
        help="VAE training steps per diffusion step (default: the one recorded for the preset and size; "
        "'calibrate' measures it on this machine)",
    )
    parser.add_argument(
        "--noise-estimate",
        choices=NOISE_ESTIMATES,
        default=None,
        help="how the diffusion samples' background clip measures the background (default: the "
        "preset's; with --rejudge, the run's, and another draws its diffusion samples again)",
    )
    parser.add_argument(
        "--rejudge",
        action="store_true",
        help="only judge the samples the run of --out kept again (its training figures stay)",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="only summarise the seeds of several JSON results of the same command into --out",
    )
    parser.add_argument(
        "--replot", action="store_true", help="only redraw the sample grids from the samples kept by a full run"
    )
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge(args.merge)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(merged, indent=1))
        print(json.dumps(merged["result"]))
        return merged["result"]
    if args.replot:
        from mlcore.generative.config import PRESETS

        replot(args.preset, args.seeds[0], args.size or PRESETS[args.preset].unet.image_size)
        return {}

    previous_run = load_run(args.out) if args.rejudge else None

    import torch

    from mlcore.generative.config import preset

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if args.quick:
        # Seconds of training: the pipeline end to end, not figures to quote. The judges need 64 px.
        config = preset("tiny", image_size=64, n_classes=len(CLASSES), max_steps=5, batch_size=8, sample_steps=4)
        seeds, per_class, judge_steps, limit, vae_hidden = [0], 6, 15, 240, (256, 128)
        vae_ratio = vae_step_ratio(args.vae_step_ratio, "tiny", 64)
    else:
        overrides = {"n_classes": len(CLASSES)}
        if args.size:
            overrides["image_size"] = args.size
        if args.epochs:
            overrides["epochs"] = args.epochs
        if args.noise_estimate:
            overrides["noise_estimate"] = args.noise_estimate
        config = preset(args.preset, **overrides)
        vae_ratio = vae_step_ratio(args.vae_step_ratio, args.preset, config.unet.image_size)
        seeds, per_class, judge_steps, limit, vae_hidden = (
            args.seeds,
            args.per_class,
            None,
            None,
            (2048, 1024, 512, 256),
        )
    size = config.unet.image_size

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    real = firstgalaxydata_prepared(size, limit=limit)
    say(f"firstgalaxydata at {size} px: {len(real['train'][1])} train, {len(real['test'][1])} test")
    x_mb, y_mb = mirabest_prepared(size)
    cache = args.checkpoints if not args.quick else None
    judges = trained_judges(real, (x_mb, y_mb), size, judge_steps, args.judge_epochs, cache)
    judge_accuracy = float((judges[0].predict(real["test"][0]) == real["test"][1]).mean())
    say(f"judging classifiers trained; 4-class test accuracy {judge_accuracy:.3f}")
    real_piped = through_pipeline(real)
    references = {**real_references(real_piped, judges), **real_references(real, judges, "_raw")}
    references.update({f"{key}_real": value for key, value in cover_measures(real_piped["test"][0]).items()})
    if args.rejudge:
        return rejudge(args, previous_run, config, real, real_piped, judges, references)

    rows, grids, raw_grids, property_sets = [], {}, {}, {"real": real_piped["test"][0]}
    classes = balanced_classes(per_class, len(CLASSES))
    for seed in seeds:
        generators, ratio_used = train_generators(
            real, config, seed, vae_hidden, progress=say, checkpoints=args.checkpoints, vae_ratio=vae_ratio
        )
        for name, (generator, seconds) in generators.items():
            if name != "vae" and config.noise_clip > 0:
                # The same draws without the background clip too: what the clip itself changes.
                clips = {"raw": (config.noise_clip, config.noise_estimate), "noclip": (0.0, config.noise_estimate)}
                kept = generator.sample_with_clips(classes, clips, seed=seed)
            else:
                kept = {"raw": generator.sample(classes, seed=seed)}
            row = {"model": name, "seed": seed, "train_seconds": seconds}
            if name == "vae":
                row.update(vae_step_ratio=ratio_used, train_steps=generator.history_[-1]["step"])
            row.update(judged(kept, classes, real, real_piped, judges))
            rows.append(row)
            if not args.quick:
                OUT.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(kept_path(args.preset, size, name, seed), classes=classes, **kept)
            say(f"seed {seed} {name}: FD {row['fd']:.2f} (raw {row['fd_raw']:.2f}), RAMIS {row['ramis']:.3f}, ")
            say(f"    class consistency {row['class_consistency']:.2f}, memorisation {row['memorisation']:.2f}")
            if seed == seeds[0]:
                samples = cutout_pipeline(kept["raw"])[0]
                grids[name] = by_class(samples, classes)
                raw_grids[name] = by_class(kept["raw"], classes)
                property_sets[name] = samples
    suffix = "_quick" if args.quick else f"_{run_name(args.preset, size)}"
    plot_samples({"real": by_class(*real_piped["test"]), **grids}, FIGURES / f"generative_samples{suffix}.png")
    plot_samples({"real": by_class(*real["test"]), **raw_grids}, FIGURES / f"generative_samples{suffix}_raw.png")
    plot_properties(property_sets, FIGURES / f"generative_properties{suffix}.png")

    result = {
        "bench": "generative_eval",
        "quick": args.quick,
        "preset": "tiny" if args.quick else args.preset,
        "image_size": size,
        "seeds": len(seeds),
        "samples_per_class": per_class,
        "judge_test_accuracy": judge_accuracy,
        "threads": args.threads,
        **summarise(rows, references),
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"result": result, "rows": rows, "config": config.as_dict()}, indent=1))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
