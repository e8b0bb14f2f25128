"""The MiraBest and firstgalaxydata splits of bench/ssl_eval.py, and its per-seed label draws."""

from __future__ import annotations

import _data
import numpy as np

CONFIDENT = {"100": 0, "102": 0, "104": 0, "200": 1, "201": 1}
UNCERTAIN = {"110", "112", "210"}


def mirabest_splits():
    """Prepared (N, 1, 150, 150) images: train and test of Confident, and the Uncertain set."""
    from mlcore.ssl.data import prepare_images

    path = _data.SHARED / "mirabest" / "mirabest_first_150x150_float32.npz"
    with np.load(path) as data:
        images, codes, names = data["images"], data["label_code"].astype(str), data["fits_name"].astype(str)
    test_stems = {line.strip().rsplit(".", 1)[0] for line in (path.parent / "test_names.txt").read_text().split()}
    stems = np.array([n.rsplit(".", 1)[0] for n in names])
    confident = np.isin(codes, list(CONFIDENT))
    is_test = np.isin(stems, list(test_stems))
    y = np.array([CONFIDENT.get(c, -1) for c in codes])
    out = {}
    for key, rows in (
        ("train", confident & ~is_test),
        ("test", confident & is_test),
        ("uncertain", np.isin(codes, list(UNCERTAIN))),
    ):
        x, bad = prepare_images(images[rows])
        keep = np.delete(np.flatnonzero(rows), bad)
        out[key] = (x, y[keep])
    return out


def firstgalaxydata_splits():
    """firstgalaxydata's FRI (0) and FRII (1) images, its own train and test split (central 150 x 150
    pixels), with MiraBest Uncertain as the shifted pool."""
    from mlcore.ssl.data import prepare_images

    images, labels, splits = _data.firstgalaxydata_arrays()
    out = {}
    for key, split in (("train", "train"), ("test", "test")):
        rows = np.isin(labels, ["FRI", "FRII"]) & (splits == split)
        x, bad = prepare_images(images[rows][:, 75:225, 75:225])
        y = np.delete((labels[rows] == "FRII").astype(int), bad)
        out[key] = (x, y)
    out["uncertain"] = mirabest_splits()["uncertain"]
    return out


def firstgalaxydata_pool(limit: int | None = None) -> np.ndarray:
    from mlcore.ssl.data import prepare_images

    images, _, _ = _data.firstgalaxydata_arrays(limit=limit)
    centre = images[:, 75:225, 75:225]  # same 1.8 arcsec pixels as MiraBest's 150 x 150 crops
    x, _ = prepare_images(centre)
    return x


def balanced_draw(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of n labels, half per class (as far as the classes allow)."""
    rng = np.random.default_rng(seed)
    picks = []
    for k, cls in enumerate(np.unique(y)):
        members = np.flatnonzero(y == cls)
        take = min(len(members), n // 2 + (n % 2 if k == 0 else 0))
        picks.append(rng.choice(members, take, replace=False))
    return np.sort(np.concatenate(picks))


def validation_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (validation, rest): a class-stratified ``fraction`` held out per seed, as the public
    implementation does before drawing the labels (its val/accuracy picks the checkpoint)."""
    if fraction <= 0:
        return np.array([], dtype=int), np.arange(len(y))
    rng = np.random.default_rng(10_000 + seed)
    val = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        val.append(rng.choice(members, round(fraction * len(members)), replace=False))
    val = np.sort(np.concatenate(val))
    return val, np.setdiff1d(np.arange(len(y)), val)
